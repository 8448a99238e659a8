#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine, for the end-to-end tests and for
# trying the chart without kind: etcd and kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kube-proxy (built from the Go module proxy), CoreDNS, and
# containerd with runc and the CNI bridge from Debian's packages.
#
#   cluster.sh up       build what is missing, start what is not running, wait for Ready
#   cluster.sh down     stop everything by PID, remove the bridge, the pods and the state
#   cluster.sh status   show each component and the node
#   cluster.sh build    only build the binaries into bin/
#   cluster.sh smoke    check that pods, Services, DNS and kubectl logs/exec work
#
# Needs root (containerd, iptables, the bridge). Everything it starts is recorded in
# $CLUSTER_DIR/pids, and `down` stops exactly those processes. The admin kubeconfig is
# $CLUSTER_DIR/admin.kubeconfig. A user with kind or any other cluster skips all of this
# and points KUBECONFIG at theirs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

BIN=${BIN:-$repo/bin}
# What the project builds into bin/ (kubectl when the machine has none) comes first.
export PATH=$BIN:$PATH
K8S_BIN=${K8S_BIN:-$BIN/cluster}
CLUSTER_DIR=${CLUSTER_DIR:-/var/lib/monkonomy-cluster}
NODE_NAME=${NODE_NAME:-monkonomy-node}
COREDNS_VERSION=${COREDNS_VERSION:-v1.12.1}
PAUSE_IMAGE=${PAUSE_IMAGE:-localhost/monkonomy/pause:1}

# The pod network is a bridge this script makes; its gateway address is also where the
# API server, the kubelet and CoreDNS listen, so pods reach them without leaving the machine.
BRIDGE=cni0
GATEWAY=10.244.0.1
POD_CIDR=10.244.0.0/24
CLUSTER_CIDR=10.244.0.0/16
SERVICE_CIDR=10.0.0.0/24
API_SERVICE_IP=10.0.0.1
API_PORT=6443
ETCD_CLIENT_PORT=12379
ETCD_PEER_PORT=12380

KUBECONFIG_FILE=$CLUSTER_DIR/admin.kubeconfig
PKI=$CLUSTER_DIR/pki
PIDS=$CLUSTER_DIR/pids
LOGS=$CLUSTER_DIR/logs
KUBELET_DIR=$CLUSTER_DIR/kubelet
CONTAINERD_SOCK=/run/containerd/containerd.sock

log() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'local cluster: %s\n' "$*" >&2
	exit 1
}

kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }

require_root() {
	[ "$(id -u)" = 0 ] || die "this needs root (containerd, iptables and the pod bridge); run it with sudo, or point KUBECONFIG at an existing cluster instead"
}

# ---- packages and binaries ------------------------------------------------------------

install_packages() {
	local missing=()
	command -v containerd >/dev/null || missing+=(containerd)
	[ -x /usr/sbin/runc ] || missing+=(runc)
	[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
	command -v iptables >/dev/null || missing+=(iptables)
	command -v ip >/dev/null || missing+=(iproute2)
	command -v sysctl >/dev/null || missing+=(procps)
	# br_netfilter is often built in; modprobe is needed only when it is not loaded yet.
	[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || command -v modprobe >/dev/null || missing+=(kmod)
	# Debian's kubernetes-client is too old for the cluster: the project builds its own.
	command -v kubectl >/dev/null || "$repo/hack/envtest/build.sh" "$BIN" kubectl ||
		die "building kubectl failed; see the Go error above (it needs the Go module proxy)"
	command -v openssl >/dev/null || missing+=(openssl)
	[ ${#missing[@]} -eq 0 ] && return
	log "Installing ${missing[*]} with apt-get"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed; install them by hand and run again"
	# Debian's package enables and starts its own containerd.service on the socket this
	# cluster's containerd uses; the one just installed serves nobody else.
	if [[ " ${missing[*]} " == *" containerd "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --now containerd.service >/dev/null 2>&1 || true
	fi
}

build_binaries() {
	local cmds=() c ldflags
	command -v go >/dev/null || die "Go is missing: the cluster's binaries are built from the Go module proxy; install Go 1.26 and run again"
	for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
		[ -x "$K8S_BIN/$c" ] || cmds+=("$c")
	done
	mkdir -p "$K8S_BIN"
	if [ ${#cmds[@]} -gt 0 ]; then
		log "Building ${cmds[*]} into $K8S_BIN (several minutes the first time, cached afterwards)"
		# The version is stamped in as Kubernetes' own build does: kubectl and helm read it.
		ldflags=$("$repo/hack/envtest/ldflags.sh")
		# One go build for all of them: the shared packages compile once, the links overlap.
		(cd "$repo/hack/envtest" && nice -n 10 go build -ldflags "$ldflags" -o "$K8S_BIN/" "${cmds[@]/#/k8s.io/kubernetes/cmd/}") ||
			die "building ${cmds[*]} failed; see the Go error above (it needs the Go module proxy)"
	fi
	if [ ! -x "$K8S_BIN/etcd" ]; then
		log "Building etcd into $K8S_BIN"
		(cd "$repo/hack/envtest" && nice -n 10 go build -ldflags "-s -w" -o "$K8S_BIN/etcd" go.etcd.io/etcd/server/v3) ||
			die "building etcd failed; see the Go error above"
	fi
	log "Building the local-path volume provisioner into $BIN"
	(cd "$repo" && nice -n 10 go build -o "$BIN/local-path-provisioner" ./hack/local-cluster/provisioner) ||
		die "building hack/local-cluster/provisioner failed; see the Go error above"
	if [ ! -x "$BIN/coredns" ]; then
		log "Building CoreDNS $COREDNS_VERSION into $BIN"
		GOBIN=$BIN nice -n 10 go install "github.com/coredns/coredns@$COREDNS_VERSION" ||
			die "building CoreDNS failed; see the Go error above"
	fi
}

# ---- processes ------------------------------------------------------------------------

# pid_of prints the PID of a component this script started, if it still runs. A PID that
# now belongs to another program (after a reboot) does not count.
pid_of() {
	local f=$PIDS/$1.pid pid
	[ -f "$f" ] || return 1
	pid=$(cat "$f")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$1" || return 1
	echo "$pid"
}

running() { pid_of "$1" >/dev/null; }

# start NAME COMMAND... runs COMMAND in its own session with its output in logs/NAME.log
# and records its PID, unless it is already running.
start() {
	local name=$1
	shift
	if running "$name"; then
		log "$name is already running (pid $(pid_of "$name"))"
		return
	fi
	mkdir -p "$PIDS" "$LOGS"
	log "Starting $name"
	setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
	echo $! >"$PIDS/$name.pid"
}

stop() {
	local name=$1 pid i
	pid=$(pid_of "$name") || {
		rm -f "$PIDS/$name.pid"
		return 0
	}
	log "Stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	rm -f "$PIDS/$name.pid"
}

# wait_for WHAT SECONDS COMMAND... polls COMMAND until it succeeds.
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for i in $(seq 1 $((secs * 2))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	die "$what did not come up within ${secs}s; see $LOGS/ for the logs"
}

# ---- configuration --------------------------------------------------------------------

make_certificates() {
	[ -f "$PKI/admin.crt" ] && return
	log "Writing certificates to $PKI"
	mkdir -p "$PKI"
	(
		cd "$PKI"
		openssl req -x509 -new -nodes -newkey rsa:2048 -keyout ca.key -out ca.crt -days 3650 \
			-subj "/CN=monkonomy-local-ca" 2>/dev/null
		openssl req -new -nodes -newkey rsa:2048 -keyout apiserver.key -out apiserver.csr \
			-subj "/CN=kube-apiserver" 2>/dev/null
		printf '%s\n' \
			"subjectAltName=IP:$GATEWAY,IP:$API_SERVICE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost" \
			"extendedKeyUsage=serverAuth" "keyUsage=digitalSignature,keyEncipherment" >apiserver.ext
		openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-out apiserver.crt -days 3650 -extfile apiserver.ext 2>/dev/null
		openssl req -new -nodes -newkey rsa:2048 -keyout admin.key -out admin.csr \
			-subj "/O=system:masters/CN=admin" 2>/dev/null
		printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=digitalSignature,keyEncipherment" >client.ext
		openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-out admin.crt -days 3650 -extfile client.ext 2>/dev/null
		openssl genrsa -out sa.key 2048 2>/dev/null
		openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
		rm -f ./*.csr ./*.ext
	)
	local k=$KUBECONFIG_FILE
	kubectl config --kubeconfig "$k" set-cluster local --server "https://$GATEWAY:$API_PORT" \
		--certificate-authority "$PKI/ca.crt" --embed-certs >/dev/null
	kubectl config --kubeconfig "$k" set-credentials admin --client-certificate "$PKI/admin.crt" \
		--client-key "$PKI/admin.key" --embed-certs >/dev/null
	kubectl config --kubeconfig "$k" set-context local --cluster local --user admin >/dev/null
	kubectl config --kubeconfig "$k" use-context local >/dev/null
}

setup_network() {
	if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
		log "Creating the pod bridge $BRIDGE ($GATEWAY)"
		ip link add "$BRIDGE" type bridge
	fi
	ip addr show dev "$BRIDGE" | grep -q "inet $GATEWAY/" || ip addr add "$GATEWAY/24" dev "$BRIDGE"
	ip link set "$BRIDGE" up
	sysctl -qw net.ipv4.ip_forward=1
	# Service traffic between two pods on the bridge must pass through iptables.
	modprobe br_netfilter 2>/dev/null || true
	[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] ||
		die "/proc/sys/net/bridge is missing: the kernel module br_netfilter is not loaded and modprobe br_netfilter could not load it; load it on the host (modprobe br_netfilter) and run again"
	sysctl -qw net.bridge.bridge-nf-call-iptables=1
	# Pods talk to each other, to Services and to this machine, never beyond it.
	iptables -C FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -j DROP 2>/dev/null ||
		iptables -I FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -j DROP
	mkdir -p /etc/cni/net.d
	cat >/etc/cni/net.d/10-monkonomy.conflist <<EOF
{
  "cniVersion": "0.4.0",
  "name": "monkonomy",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$GATEWAY"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
EOF
}

write_containerd_config() {
	install -m 0755 "$here/runc-shim.sh" "$CLUSTER_DIR/runc-shim"
	containerd config default |
		sed -e "s|bin_dir = .*|bin_dir = \"/usr/lib/cni\"|" \
			-e "s|sandbox_image = .*|sandbox_image = \"$PAUSE_IMAGE\"|" \
			-e "s|BinaryName = \"\"|BinaryName = \"$CLUSTER_DIR/runc-shim\"|" \
			>"$CLUSTER_DIR/containerd.toml"
}

write_kubelet_config() {
	cat >"$CLUSTER_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $GATEWAY
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
failCgroupV1: false
failSwapOn: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
podCIDR: $POD_CIDR
clusterDNS: [$GATEWAY]
clusterDomain: cluster.local
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
# Images cannot be pulled here, only imported: never collect them, never evict for disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
EOF
	cat >"$CLUSTER_DIR/Corefile" <<EOF
.:53 {
    bind $GATEWAY
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $KUBECONFIG_FILE
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
EOF
}

# ---- up / down / status ---------------------------------------------------------------

up() {
	require_root
	install_packages
	build_binaries
	mkdir -p "$CLUSTER_DIR" "$PIDS" "$LOGS" "$KUBELET_DIR"
	make_certificates
	setup_network
	write_containerd_config
	write_kubelet_config

	if ! running containerd && [ -S "$CONTAINERD_SOCK" ] && ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; then
		die "a containerd this script did not start serves $CONTAINERD_SOCK (Docker's, or Debian's containerd.service); stop it (systemctl disable --now containerd) and run again"
	fi
	start containerd containerd --config "$CLUSTER_DIR/containerd.toml"
	wait_for containerd 30 ctr --address "$CONTAINERD_SOCK" version
	if ! ctr -n k8s.io images ls -q | grep -qx "$PAUSE_IMAGE"; then
		log "Importing the pause image"
		make -C "$repo" --no-print-directory image-pause >&2
	fi

	start etcd "$K8S_BIN/etcd" --name default --data-dir "$CLUSTER_DIR/etcd" \
		--listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
		--advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" \
		--listen-metrics-urls "" --unsafe-no-fsync
	start kube-apiserver "$K8S_BIN/kube-apiserver" \
		--etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" \
		--bind-address "$GATEWAY" --advertise-address "$GATEWAY" --secure-port "$API_PORT" \
		--tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
		--client-ca-file "$PKI/ca.crt" \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
		--service-cluster-ip-range "$SERVICE_CIDR" \
		--authorization-mode RBAC --allow-privileged=true \
		--kubelet-preferred-address-types InternalIP \
		--kubelet-client-certificate "$PKI/admin.crt" --kubelet-client-key "$PKI/admin.key" \
		--profiling=false
	wait_for kube-apiserver 120 kc get --raw /readyz

	start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
		--kubeconfig "$KUBECONFIG_FILE" --bind-address 127.0.0.1 \
		--service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
		--controllers '*,-node-ipam-controller' --leader-elect=false
	start kube-scheduler "$K8S_BIN/kube-scheduler" \
		--kubeconfig "$KUBECONFIG_FILE" --bind-address 127.0.0.1 --leader-elect=false
	start kubelet "$K8S_BIN/kubelet" --config "$CLUSTER_DIR/kubelet.yaml" \
		--kubeconfig "$KUBECONFIG_FILE" --root-dir "$KUBELET_DIR" \
		--hostname-override "$NODE_NAME" --node-ip "$GATEWAY"
	start kube-proxy "$K8S_BIN/kube-proxy" --kubeconfig "$KUBECONFIG_FILE" \
		--proxy-mode iptables --cluster-cidr "$CLUSTER_CIDR" --hostname-override "$NODE_NAME" \
		--bind-address 127.0.0.1 --healthz-bind-address 127.0.0.1:10256 \
		--metrics-bind-address 127.0.0.1:10249 --conntrack-max-per-core 0
	start coredns "$BIN/coredns" -conf "$CLUSTER_DIR/Corefile"
	start local-path-provisioner "$BIN/local-path-provisioner" --kubeconfig "$KUBECONFIG_FILE" \
		--root "$CLUSTER_DIR/volumes"
	kc apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: monkonomy.dev/local-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
EOF

	wait_for "the node $NODE_NAME" 120 kc wait --for=condition=Ready "node/$NODE_NAME" --timeout 1s
	wait_for "the default ServiceAccount" 60 kc get serviceaccount default
	log "The cluster is up. Use it with: export KUBECONFIG=$KUBECONFIG_FILE"
}

# remove_pods stops every pod through the kubelet, so that the CNI plugin releases its
# addresses and network namespaces, before the kubelet itself stops.
remove_pods() {
	running kube-apiserver && running kubelet || return 0
	kc get --raw /readyz >/dev/null 2>&1 || return 0
	log "Deleting every pod"
	kc delete pods --all --all-namespaces --force --grace-period=0 --wait=false >/dev/null 2>&1 || true
	local i
	for i in $(seq 1 60); do
		[ -z "$(ctr -n k8s.io tasks ls -q 2>/dev/null)" ] && return 0
		sleep 0.5
	done
}

down() {
	require_root
	# Controllers first, so nothing recreates the pods being removed.
	stop kube-controller-manager
	stop kube-scheduler
	remove_pods
	stop kubelet
	stop kube-proxy
	stop coredns
	stop local-path-provisioner
	stop kube-apiserver
	stop etcd
	if running containerd; then
		local id
		for id in $(ctr -n k8s.io tasks ls -q 2>/dev/null); do
			ctr -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
		done
		sleep 1
		for id in $(ctr -n k8s.io containers ls -q 2>/dev/null); do
			ctr -n k8s.io tasks delete -f "$id" >/dev/null 2>&1 || true
			ctr -n k8s.io containers delete "$id" >/dev/null 2>&1 || true
		done
	fi
	stop containerd
	if [ -x "$K8S_BIN/kube-proxy" ]; then
		"$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1 ||
			log "kube-proxy --cleanup failed: remove the KUBE-* iptables chains by hand (iptables-save | grep KUBE)"
	fi
	# The kubelet's own chains, which kube-proxy does not remove.
	local ipt table chain
	for ipt in iptables ip6tables; do
		command -v "$ipt" >/dev/null || continue
		"$ipt" -D INPUT -j KUBE-FIREWALL 2>/dev/null || true
		"$ipt" -D OUTPUT -j KUBE-FIREWALL 2>/dev/null || true
		for table in filter nat mangle; do
			for chain in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT; do
				"$ipt" -t "$table" -F "$chain" 2>/dev/null || true
				"$ipt" -t "$table" -X "$chain" 2>/dev/null || true
			done
		done
	done
	local ns
	for ns in /run/netns/cni-*; do
		[ -e "$ns" ] || continue
		umount "$ns" 2>/dev/null || true
		rm -f "$ns"
	done
	iptables -D FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -j DROP 2>/dev/null || true
	ip link del "$BRIDGE" 2>/dev/null || true
	rm -f /etc/cni/net.d/10-monkonomy.conflist
	rm -rf /var/lib/cni/networks/monkonomy
	if [ -d "$CLUSTER_DIR" ]; then
		# The kubelet leaves volumes mounted under its root dir; unmount before removing.
		local m
		for m in $(awk -v d="$CLUSTER_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		done
		rm -rf "$CLUSTER_DIR"
	fi
	log "The cluster is down."
}

status() {
	local name ok=0
	for name in containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy coredns local-path-provisioner; do
		if running "$name"; then
			printf '%-24s running (pid %s)\n' "$name" "$(pid_of "$name")"
		else
			printf '%-24s not running\n' "$name"
			ok=1
		fi
	done
	if [ -f "$KUBECONFIG_FILE" ] && kc get --raw /readyz >/dev/null 2>&1; then
		kc get nodes -o wide
		echo "KUBECONFIG=$KUBECONFIG_FILE"
	else
		echo "The API server does not answer; run: make cluster-up"
		ok=1
	fi
	return $ok
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
build) build_binaries ;;
smoke) "$here/smoke.sh" "$KUBECONFIG_FILE" ;;
kubeconfig) echo "$KUBECONFIG_FILE" ;;
*) die "usage: $0 up|down|status|build|smoke|kubeconfig" ;;
esac
