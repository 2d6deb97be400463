#!/usr/bin/env bash
# The provider comparison of BENCHMARKS.md: the bundled provider and panva's oidc-provider
# 8.8 and 9.13 (when Node.js and npm are installed), each in its own process, driven by the
# same load generator (`rp bench`) in the same run, their CPU time and memory read from /proc.
#
#   benches/providers.sh [REQUESTS]        (default 5000 per row)
#
# Needs a release build (`cargo build --release -p rp-cli`). Prints one line per row.
set -euo pipefail
cd "$(dirname "$0")/.."
RP=target/release/rp
N=${1:-5000}
[ -x "$RP" ] || { echo "build first: cargo build --release -p rp-cli" >&2; exit 2; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_issuer() { # FILE -> first line that looks like a URL (bounded wait: 10 s)
    for _ in $(seq 100); do
        line=$(grep -m1 -o 'http://127.0.0.1:[0-9]*' "$1" 2>/dev/null || true)
        [ -n "$line" ] && { echo "$line"; return 0; }
        sleep 0.1
    done
    echo "no issuer in $1" >&2; return 1
}

row() { # LABEL ISSUER PID ARGS...
    local label=$1 issuer=$2 pid=$3; shift 3
    "$RP" bench --issuer "$issuer" --pid "$pid" --label "$label" "$@"
}

"$RP" provider >/tmp/rp-bench-bundled.out 2>/dev/null &
bundled=$!; pids+=("$bundled")
B=$(wait_issuer /tmp/rp-bench-bundled.out)
ALICE=(--username alice --password wonderland)
for users in 1 8 32; do
    row "bundled  login RS256  users=$users" "$B" "$bundled" --client-id rp-demo --client-secret rp-demo-secret "${ALICE[@]}" --users "$users" --requests "$N"
done
row "bundled  login ES256  users=8" "$B" "$bundled" --client-id rp-es256 --client-secret rp-es256-secret "${ALICE[@]}" --users 8 --requests "$N"
row "bundled  login EdDSA  users=8" "$B" "$bundled" --client-id rp-eddsa --client-secret rp-eddsa-secret "${ALICE[@]}" --users 8 --requests "$N"
row "bundled  refresh RS256 users=8" "$B" "$bundled" --mode refresh --client-id rp-demo --client-secret rp-demo-secret "${ALICE[@]}" --users 8 --requests "$N"
row "bundled  refresh EdDSA users=8" "$B" "$bundled" --mode refresh --client-id rp-eddsa --client-secret rp-eddsa-secret "${ALICE[@]}" --users 8 --requests "$N"
row "bundled  client-credentials users=8" "$B" "$bundled" --mode client-credentials --client-id rp-service --client-secret rp-service-secret --users 8 --requests "$N"

oidc_rows() { # NAME [MODULE]: the oidc-provider rows, on the interop configuration (server.mjs)
    local name=$1 module=${2:-}
    OIDC_PROVIDER_MODULE=$module node tests/interop/server.mjs >/tmp/rp-bench-oidc.out 2>/dev/null &
    oidc=$!; pids+=("$oidc")
    O=$(wait_issuer /tmp/rp-bench-oidc.out)
    S=(--client-id rp-static --client-secret static-secret-for-interop-tests)
    for users in 1 8 32; do
        row "$name login RS256 users=$users" "$O" "$oidc" "${S[@]}" "${ALICE[@]}" --users "$users" --requests "$N"
    done
    row "$name refresh RS256 users=8" "$O" "$oidc" --mode refresh --prompt consent "${S[@]}" "${ALICE[@]}" --users 8 --requests "$N"
    row "$name client-credentials users=8" "$O" "$oidc" --mode client-credentials "${S[@]}" --users 8 --requests "$N"
    kill "$oidc"
}

if command -v node >/dev/null && command -v npm >/dev/null; then
    # The version the interop tests pin (8.8.1, the newest line that supports Node 20)...
    tests/interop/oidc-provider.sh install
    oidc_rows "oidc-provider 8.8"
    # ...and 9.13, the version of the reference figures in issue 7 (it warns on Node 20 and
    # runs). Pinned by benches/oidc-provider-9/package-lock.json; installed once per lock file.
    (
        cd benches/oidc-provider-9
        if ! cmp -s package-lock.json node_modules/.rp-installed-lock 2>/dev/null; then
            npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2
            cp package-lock.json node_modules/.rp-installed-lock
        fi
    )
    oidc_rows "oidc-provider 9.13" "$PWD/benches/oidc-provider-9/node_modules/oidc-provider/lib/index.js"
else
    echo "oidc-provider rows skipped: Node.js and npm are not installed"
fi
