#!/usr/bin/env bash
# Checks that a cluster runs what the end-to-end tests need: a Deployment's pod starts,
# a Service answers through its ClusterIP, cluster DNS resolves the Service's name, and
# kubectl logs and exec reach the kubelet. Needs the Redis image of hack/images.
#
#   smoke.sh [KUBECONFIG]
set -euo pipefail
export KUBECONFIG=${1:-${KUBECONFIG:?usage: smoke.sh KUBECONFIG}}
ns=monkonomy-smoke
image=${REDIS_IMAGE:-localhost/monkonomy/redis:7}

fail() {
	echo "smoke: $*" >&2
	kubectl -n "$ns" get pods,svc,endpointslices -o wide >&2 || true
	kubectl -n "$ns" describe pods >&2 || true
	exit 1
}
trap 'kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true' EXIT

kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n "$ns" apply -f - >/dev/null <<EOF2
apiVersion: apps/v1
kind: Deployment
metadata: {name: redis}
spec:
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec:
      containers:
      - name: redis
        image: $image
        args: [--port, "6379", --protected-mode, "no", --save, "", --appendonly, "no", --dir, /data]
        ports: [{containerPort: 6379}]
---
apiVersion: v1
kind: Service
metadata: {name: redis}
spec:
  selector: {app: redis}
  ports: [{port: 6379, targetPort: 6379}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers:
  - name: client
    image: $image
    args: [--port, "7000", --save, "", --appendonly, "no", --dir, /data]
EOF2
kubectl -n "$ns" rollout status deploy/redis --timeout 120s >/dev/null || fail "the redis Deployment did not become available"
kubectl -n "$ns" wait --for=condition=Ready pod/client --timeout 120s >/dev/null || fail "the client pod did not become Ready"
echo "ok: a Deployment's pod and a plain pod run"

logs=$(kubectl -n "$ns" logs deploy/redis) || fail "kubectl logs failed"
grep -q "Ready to accept connections" <<<"$logs" || fail "kubectl logs did not show Redis starting: $logs"
echo "ok: kubectl logs"

ip=$(kubectl -n "$ns" get svc redis -o jsonpath='{.spec.clusterIP}')
for target in "$ip" redis "redis.$ns.svc.cluster.local"; do
	answer=""
	for _ in $(seq 1 30); do
		answer=$(kubectl -n "$ns" exec client -- redis-cli -h "$target" -p 6379 ping 2>&1) && [ "$answer" = PONG ] && break
		sleep 1
	done
	[ "$answer" = PONG ] || fail "the Service did not answer at $target from a pod: $answer"
	echo "ok: kubectl exec, and the Service answers at $target"
done
echo "smoke: the cluster works"
