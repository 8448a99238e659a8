#!/usr/bin/env bash
# Prints the -ldflags that stamp the Kubernetes version of this module into a binary built
# from it, as Kubernetes' own build does: kubectl, helm and the cluster's components read it.
set -euo pipefail
cd "$(dirname "$0")"
version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
major=$(cut -d. -f1 <<<"${version#v}")
minor=$(cut -d. -f2 <<<"$version")
echo "-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitTreeState=clean" \
	"-X k8s.io/component-base/version.gitMajor=$major -X k8s.io/component-base/version.gitMinor=$minor"
