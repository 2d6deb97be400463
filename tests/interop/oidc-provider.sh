#!/bin/sh
# panva's oidc-provider for rp's interop tests: install, start, stop.
#
#   tests/interop/oidc-provider.sh install        npm ci (pinned by package-lock.json) into
#                                                 tests/interop/node_modules, once per lock file
#   tests/interop/oidc-provider.sh start [PORT]   install, start in the background, print the
#                                                 issuer URL (PORT 0 or absent: ephemeral)
#   tests/interop/oidc-provider.sh stop           stop what `start` started
#
# The Rust interop tests (tests/tests/interop.rs) call `install` and then run server.mjs
# themselves, one provider per test. Needs Node.js >= 18 and npm; exit status 3 when they
# are missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
pidfile="$here/.server.pid"
logfile="$here/.server.log"

need() {
    for tool in node npm; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "oidc-provider.sh: $tool is not installed (Node.js >= 18 and npm are needed)" >&2
            exit 3
        fi
    done
}

install() {
    need
    stamp="node_modules/.rp-installed-lock"
    if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
        return 0
    fi
    # --ignore-scripts: nothing of the dependency tree runs at install time.
    npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2
    cp package-lock.json "$stamp"
}

case "${1:-}" in
install)
    install
    ;;
start)
    install
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "oidc-provider.sh: already running (pid $(cat "$pidfile")); run stop first" >&2
        exit 1
    fi
    : >"$logfile"
    node server.mjs --port "${2:-0}" >"$logfile" 2>&1 </dev/null &
    echo $! >"$pidfile"
    # Wait for the issuer line, at most 10 s.
    i=0
    while [ $i -lt 100 ]; do
        issuer=$(sed -n 's/^issuer //p' "$logfile" | head -n 1)
        if [ -n "$issuer" ]; then
            echo "$issuer"
            exit 0
        fi
        if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            cat "$logfile" >&2
            rm -f "$pidfile"
            exit 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    echo "oidc-provider.sh: no issuer line after 10 s; see $logfile" >&2
    exit 1
    ;;
stop)
    if [ -f "$pidfile" ]; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    fi
    ;;
*)
    echo "usage: $0 install | start [PORT] | stop" >&2
    exit 2
    ;;
esac
