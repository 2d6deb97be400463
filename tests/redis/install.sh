#!/bin/sh
# redis-server for the shared-store tests (tests/tests/redis.rs): Debian's package, installed
# when missing. Needs apt (Debian or Ubuntu) and root or sudo; exit status 3 when it cannot
# install, so the tests can say why they skip. The tests start their own servers on ephemeral
# loopback ports, without persistence, in temporary directories; nothing else is touched.
#
#   tests/redis/install.sh          install if missing, then print the path of redis-server
set -eu

if ! command -v redis-server >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install.sh: no apt-get here; install redis-server yourself" >&2
        exit 3
    fi
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            SUDO="sudo -n"
        else
            echo "install.sh: installing redis-server needs root (or password-less sudo)" >&2
            exit 3
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Package lists may be missing on a fresh machine; refresh them only when needed.
    if ! $SUDO apt-get install -y -q --no-install-recommends redis-server >/dev/null 2>&1; then
        $SUDO apt-get update -q >/dev/null 2>&1 || true
        $SUDO apt-get install -y -q --no-install-recommends redis-server >&2 || {
            echo "install.sh: apt-get could not install redis-server" >&2
            exit 3
        }
    fi
    # The package starts a system-wide server; the tests do not use it.
    $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
command -v redis-server
