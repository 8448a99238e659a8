#!/usr/bin/env bash
# Builds the images the local cluster and the end-to-end tests run, as tarballs in
# bin/images, and imports them into containerd's k8s.io namespace when containerd runs
# (the local cluster of hack/local-cluster). Nothing is pulled from a registry.
#
#   build.sh pause         the pod sandbox image: a static binary that sleeps
#   build.sh redis         Debian's redis-server and redis-cli with the libraries ldd lists
#   build.sh team-trader   the test team's trader (examples/team-trader)
#   build.sh monkonomy     imports the project image that `make image` wrote
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${IMAGES_DIR:-$repo/bin/images}
MONKONOMY_IMAGE_TAR=${MONKONOMY_IMAGE_TAR:-$repo/dist/monkonomy-image.tar}

PAUSE_IMAGE=localhost/monkonomy/pause:1
REDIS_IMAGE=localhost/monkonomy/redis:7
TEAM_TRADER_IMAGE=localhost/monkonomy/team-trader:dev

mkdir -p "$out"
builder=$out/.builder

log() { printf '==> %s\n' "$*" >&2; }

gobuild() { (cd "$repo" && CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags '-s -w' "$@"); }

image() { "$builder" "$@" >&2; }

import_tar() {
	if [ ! -S /run/containerd/containerd.sock ]; then
		log "containerd is not running: built $1 but did not import it (run make cluster-up first)"
		return
	fi
	ctr -n k8s.io images import "$1" >/dev/null
	log "Imported $1"
}

build_pause() {
	gobuild -o "$out/pause" ./hack/images/pause
	image --tag "$PAUSE_IMAGE" --output "$out/pause.tar" --file "$out/pause=/pause" \
		--entrypoint /pause --user 65535:65535
	import_tar "$out/pause.tar"
}

build_redis() {
	local bins=(/usr/bin/redis-server /usr/bin/redis-cli) args=() lib
	for b in "${bins[@]}"; do
		[ -x "$b" ] || {
			echo "build.sh: $b is missing; install Debian's redis-server and redis-tools (apt-get install redis-server redis-tools)" >&2
			exit 1
		}
		args+=(--file "$(readlink -f "$b")=$b")
	done
	# The loader and every shared library, under the paths the binaries ask for.
	for lib in $(ldd "${bins[@]}" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' | sort -u); do
		args+=(--file "$lib=$lib")
	done
	image --tag "$REDIS_IMAGE" --output "$out/redis.tar" "${args[@]}" \
		--dir /data --dir /tmp --entrypoint /usr/bin/redis-server --user 999:999
	import_tar "$out/redis.tar"
}

build_team_trader() {
	gobuild -o "$out/team-trader" ./examples/team-trader
	image --tag "$TEAM_TRADER_IMAGE" --output "$out/team-trader.tar" \
		--file "$out/team-trader=/team-trader" --entrypoint /team-trader --user 65532:65532
	import_tar "$out/team-trader.tar"
}

import_monkonomy() {
	[ -f "$MONKONOMY_IMAGE_TAR" ] || {
		echo "build.sh: $MONKONOMY_IMAGE_TAR is missing; run make image first" >&2
		exit 1
	}
	import_tar "$MONKONOMY_IMAGE_TAR"
}

(cd "$repo" && go build -o "$builder" ./hack/images)
for what in "$@"; do
	case "$what" in
	pause) build_pause ;;
	redis) build_redis ;;
	team-trader) build_team_trader ;;
	monkonomy) import_monkonomy ;;
	*)
		echo "build.sh: unknown image $what (pause, redis, team-trader, monkonomy)" >&2
		exit 2
		;;
	esac
done
