# Monkonomy: `make help` lists the targets.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

BIN        := $(CURDIR)/bin
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

.PHONY: setup
setup: ## Install what the tests need (redis-server, chromium) and build the envtest binaries.
	hack/setup.sh
	$(MAKE) envtest

.PHONY: envtest
envtest: $(ENVTEST_DIR)/kube-apiserver $(ENVTEST_DIR)/etcd ## Build kube-apiserver and etcd for envtest into bin/k8s.

$(ENVTEST_DIR)/kube-apiserver $(ENVTEST_DIR)/etcd: hack/envtest/go.mod
	hack/envtest/build.sh $(ENVTEST_DIR)

##@ Test

.PHONY: test
test: setup ## Run every test (unit, Redis, envtest, browser).
	$(GO) test $(TEST_FLAGS) -p 1 $(PKGS)

.PHONY: bench
bench: ## Run the benchmarks and print their figures.
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./market/rules/

.PHONY: fuzz
fuzz: ## Fuzz the decimal codec and order validation for a while (FUZZTIME=30s).
	$(GO) test -run '^$$' -fuzz FuzzParseMicro -fuzztime $${FUZZTIME:-30s} ./market/rules/
