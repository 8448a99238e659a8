# Monkonomy: `make help` lists the targets.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

BIN        := $(CURDIR)/bin
# What the project builds into bin/ (helm, kubectl when the machine has none) comes first.
export PATH := $(BIN):$(PATH)
GO         ?= go
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS    := -s -w -X main.version=$(VERSION)
PKGS       := ./...

# Kubernetes control plane for envtest, built from source (hack/envtest).
ENVTEST_DIR        := $(BIN)/k8s
export KUBEBUILDER_ASSETS := $(ENVTEST_DIR)

CONTROLLER_GEN_VERSION := v0.23.0
CONTROLLER_GEN         := $(BIN)/controller-gen
HELM_VERSION           := v3.22.0
HELM                   := $(BIN)/helm
# The image `make image` writes as a tarball, and the tag the chart defaults to.
IMAGE                  ?= ghcr.io/monkonomy/monkonomy:dev
DIST                   := $(CURDIR)/dist

# Tests: one package at a time keeps the two cores for the servers they start.
TEST_FLAGS ?= -count=1 -timeout 25m

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: build
build: ## Build the monkonomy binary into bin/.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/monkonomy ./cmd/monkonomy

.PHONY: fmt
fmt: ## Format the Go code.
	gofmt -w $$(git ls-files '*.go')

.PHONY: lint
lint: ## Check formatting and run go vet.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) vet -tags e2e ./test/e2e/

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRDs and RBAC of config/ from the markers in api/ and controllers/.
	$(CONTROLLER_GEN) rbac:roleName=monkonomy-manager crd:allowDangerousTypes=false paths="./api/..." paths="./controllers/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate the DeepCopy methods of api/.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths="./api/..."

$(CONTROLLER_GEN):
	GOBIN=$(BIN) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)

.PHONY: setup
setup: ## Install what the tests need (redis-server, redis-tools, chromium, Node.js, npm, ca-certificates); build the envtest binaries, helm, and kubectl when missing.
	hack/setup.sh
	$(MAKE) envtest helm kubectl

.PHONY: envtest
envtest: $(ENVTEST_DIR)/kube-apiserver $(ENVTEST_DIR)/etcd ## Build kube-apiserver and etcd for envtest into bin/k8s.

$(ENVTEST_DIR)/kube-apiserver $(ENVTEST_DIR)/etcd &: hack/envtest/go.mod
	hack/envtest/build.sh $(ENVTEST_DIR)

.PHONY: kubectl
kubectl: ## Build kubectl of envtest's Kubernetes version into bin/, when none is on the PATH.
	@command -v kubectl >/dev/null || hack/envtest/build.sh $(BIN) kubectl

##@ Install

.PHONY: image
image: ## Build the container image as a tarball (dist/monkonomy-image.tar) without a Docker engine.
	CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(DIST)/image/monkonomy ./cmd/monkonomy
	$(GO) run ./hack/image --binary $(DIST)/image/monkonomy --tag $(IMAGE) --version $(VERSION) \
		--revision $$(git rev-parse HEAD 2>/dev/null || echo unknown) --output $(DIST)/monkonomy-image.tar

.PHONY: helm
helm: $(HELM) ## Build helm into bin/ from the Go module proxy.

$(HELM):
	GOBIN=$(BIN) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

.PHONY: helm-sync
helm-sync: ## Copy the CRDs and the operator's RBAC rules of config/ into the chart (a test checks that they match).
	rm -f charts/monkonomy/files/crds/*.yaml
	cp config/crd/bases/*.yaml charts/monkonomy/files/crds/
	cp config/rbac/role.yaml charts/monkonomy/files/rbac/role.yaml

.PHONY: install-plugin
install-plugin: build ## Install the kubectl plugin as bin/kubectl-monkonomy (put bin/ on your PATH).
	ln -sf monkonomy $(BIN)/kubectl-monkonomy

##@ Test

.PHONY: test
test: setup ## Run every test (unit, Redis, envtest, browser).
	$(GO) test $(TEST_FLAGS) -p 1 $(PKGS)

.PHONY: test-install
test-install: setup ## Test the chart, the kustomize config, the image and the kubectl plugin.
	$(GO) test $(TEST_FLAGS) ./test/install/...

.PHONY: bench-operator
bench-operator: envtest ## Rank 500 Traders on envtest and print the operator's figures.
	$(GO) test -run '^$$' -bench BenchmarkScoreboard -benchtime 1x -count=1 -timeout 10m ./controllers/

.PHONY: bench
bench: ## Run the benchmarks and print their figures (rules, protocol, engine, operator at 500 Traders).
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./market/rules/ ./market/protocol/
	$(GO) test -run '^$$' -bench BenchmarkRecentIDs -benchmem -count=1 ./market/engine/
	MONKONOMY_BENCH_TRADERS=$${BENCH_TRADERS:-$$MONKONOMY_BENCH_TRADERS} $(GO) test -run '^$$' -bench BenchmarkEngine -benchtime 1x -count=1 -timeout 10m ./market/engine/
	$(MAKE) --no-print-directory bench-operator

.PHONY: fuzz
fuzz: ## Fuzz the decimal codec and order validation for a while (FUZZTIME=30s).
	$(GO) test -run '^$$' -fuzz FuzzParseMicro -fuzztime $${FUZZTIME:-30s} ./market/rules/

##@ Local cluster and end-to-end tests

LOCAL_CLUSTER := hack/local-cluster/cluster.sh

.PHONY: cluster-up
cluster-up: ## Start a real single-node cluster on this machine (root; builds what is missing into bin/).
	$(LOCAL_CLUSTER) up

.PHONY: cluster-down
cluster-down: ## Stop the local cluster by PID and remove its pods, bridge and state.
	$(LOCAL_CLUSTER) down

.PHONY: cluster-status
cluster-status: ## Show the local cluster's processes and node.
	$(LOCAL_CLUSTER) status

.PHONY: image-pause
image-pause: ## Build the pod sandbox image and import it into the local cluster.
	hack/images/build.sh pause

.PHONY: images
images: image ## Build the monkonomy, Redis, test-team and pause images and import them into the local cluster.
	hack/images/build.sh pause redis team-trader monkonomy

.PHONY: test-e2e
test-e2e: setup ## Run the end-to-end suite on the cluster of KUBECONFIG, or on a local cluster it starts.
	hack/local-cluster/e2e.sh
