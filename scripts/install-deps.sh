#!/usr/bin/env bash
# Install everything sinkd needs to build, test and benchmark on Debian 12.
# Idempotent: packages already present are skipped; apt-get runs only when
# something is missing. Usage: scripts/install-deps.sh [--bench]
set -euo pipefail

build_pkgs=(build-essential cmake ninja-build pkg-config libhttp-parser-dev
  libknot-dev libinih-dev liburcu-dev libsqlite3-dev libidn2-dev libssl-dev libc-ares-dev
  libpcre2-dev libexpat1-dev zlib1g-dev libbz2-dev libjansson-dev libmaxminddb-dev
  libcurl4-openssl-dev libseccomp-dev libsystemd-dev libmicrohttpd-dev libgnutls28-dev)
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev python3 python3-pytest dnsutils knot-dnsutils sqlite3 iproute2
  nsd unbound chromium clickhouse-server clickhouse-client python3-jsonschema
  python3-prometheus-client python3-yaml)
bench_pkgs=(nsd knot knot-module-dnstap dnsperf wrk nginx-light)

want=("${build_pkgs[@]}" "${test_pkgs[@]}")
if [ "${1:-}" = "--bench" ]; then
  want+=("${bench_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm for third_party/ (geo data, dashboard assets, the browser
# test driver): Debian's packages unless a node is already on PATH.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

npm_deps() {
  # third_party/package-lock.json pins every npm package; `npm ci` installs
  # exactly that, and only when the lock changed since the last install.
  local dir stamp
  dir="$(cd "$(dirname "$0")/.." && pwd)/third_party"
  stamp="$dir/node_modules/.sinkd-lock"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then
    return 0
  fi
  echo "install-deps: npm ci in third_party/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
}

if [ ${#missing[@]} -eq 0 ]; then
  npm_deps
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
# Debian starts packaged daemons on install where an init system runs; the
# benchmarks and the monitor tests start their own instances on their own ports.
for svc in nsd knot unbound nginx clickhouse-server; do
  if [[ " ${missing[*]} " == *" $svc"* ]] && command -v systemctl >/dev/null 2>&1; then
    $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
done
npm_deps
