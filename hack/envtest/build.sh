#!/usr/bin/env bash
# Builds Kubernetes binaries of this module's version from the Go module proxy into the given
# folder: by default kube-apiserver and etcd for controller-runtime's envtest (bin/k8s), or
# the commands named, e.g. kubectl (into bin/, when the machine has none: Debian's
# kubernetes-client is too old). No binary download exists on these machines, so they are
# compiled: about six minutes cold on two cores for the control plane, cached afterwards.
set -euo pipefail
out=${1:?usage: build.sh OUTDIR [COMMAND...]}
shift
cmds=("$@")
[ ${#cmds[@]} -gt 0 ] || cmds=(kube-apiserver etcd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")"
echo "Building ${cmds[*]} into $out (about six minutes the first time for the control plane)..."
for c in "${cmds[@]}"; do
	case $c in
	etcd) go build -o "$out/etcd" go.etcd.io/etcd/server/v3 ;;
	*) go build -ldflags "$(./ldflags.sh)" -o "$out/$c" "k8s.io/kubernetes/cmd/$c" ;;
	esac
done
echo "Built ${cmds[*]}"
