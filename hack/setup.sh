#!/usr/bin/env bash
# Installs what the tests need from Debian's packages, when it is missing: redis-server for
# the Redis tests, redis-tools (redis-cli for the doc's lines, redis-benchmark for the
# engine's benchmark), chromium for the dashboard's browser test, Node.js and npm for the
# trader written in another language, ca-certificates for the bundle the image tarball
# carries. Safe to run again.
set -euo pipefail

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null || need+=(redis-tools)
command -v chromium >/dev/null || need+=(chromium fonts-dejavu-core)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
[[ -s /etc/ssl/certs/ca-certificates.crt ]] || need+=(ca-certificates)

if ((${#need[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "Missing: ${need[*]}. Install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "Installing ${need[*]} from Debian's packages..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
