#!/usr/bin/env bash
# Builds the kubectl of envtest's Kubernetes version from the Go module proxy into the given
# folder (bin/). Debian's kubernetes-client is too old for it, and no binary download exists
# on these machines; the build shares most of its packages with kube-apiserver's.
set -euo pipefail
out=${1:?usage: kubectl.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")"
echo "Building kubectl into $out..."
go build -ldflags "$(./ldflags.sh)" -o "$out/kubectl" k8s.io/kubernetes/cmd/kubectl
