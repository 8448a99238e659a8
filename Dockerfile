# The one Monkonomy image: operator, engine and trader runtime in one static binary.
# Without a Docker engine, `make image` builds the same image as a tarball (hack/image).

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/monkonomy ./cmd/monkonomy

# distroless/static has /etc/passwd with the user nonroot (65532), CA certificates and
# nothing else: no shell, no package manager.
FROM gcr.io/distroless/static:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="monkonomy" \
      org.opencontainers.image.description="Monkonomy: a live trading tournament on the banana market (operator, engine, traders, dashboard)" \
      org.opencontainers.image.source="https://github.com/monkonomy/monkonomy" \
      org.opencontainers.image.url="https://github.com/monkonomy/monkonomy" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/monkonomy /monkonomy
USER 65532:65532
ENTRYPOINT ["/monkonomy"]
