#!/usr/bin/env bash
# Runs the end-to-end suite (`make test-e2e`). With KUBECONFIG set it uses that cluster
# (kind or any other: load the image tarballs of bin/images and dist/ into it first, e.g.
# `kind load image-archive`); without it, it brings up the local cluster of
# hack/local-cluster, which stays up afterwards for the next run (`make cluster-down`),
# except in CI (CI set), where the cluster it started is torn down at the end.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
started=$(date +%s)

if [ -z "${KUBECONFIG:-}" ]; then
	if [ -n "${CI:-}" ]; then
		trap '"$here/cluster.sh" down || true' EXIT
	fi
	"$here/cluster.sh" up
	KUBECONFIG=$("$here/cluster.sh" kubeconfig)
	export KUBECONFIG
fi
nice -n 10 make --no-print-directory images
nice -n 10 make --no-print-directory build install-plugin
export PATH=$repo/bin:$PATH
echo "==> Ready after $(($(date +%s) - started))s; running the suite on $(kubectl config current-context)"
status=0
nice -n 5 go test -tags e2e ./test/e2e/ -count=1 -v -timeout "${E2E_TIMEOUT:-20m}" || status=$?
echo "==> make test-e2e took $(($(date +%s) - started))s"
exit $status
