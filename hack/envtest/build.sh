#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy into the given folder (bin/k8s),
# for controller-runtime's envtest. No binary download exists on these machines, so the
# control plane is compiled: about six minutes cold on two cores, cached afterwards.
set -euo pipefail
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")"
echo "Building kube-apiserver and etcd into $out (about six minutes the first time)..."
go build -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
go build -o "$out/etcd" go.etcd.io/etcd/server/v3
echo "Built $(ls "$out" | tr '\n' ' ')"
