#!/bin/sh
# redis-server for the shared-store tests (tests/tests/redis.rs): Debian's package, installed
# when missing (tests/apt-install.sh; exit status 3 when it cannot, so the tests can say why
# they skip). The tests start their own servers on ephemeral loopback ports, without
# persistence, in temporary directories; nothing else is touched.
#
#   tests/redis/install.sh          install if missing, then print the path of redis-server
set -eu

if ! command -v redis-server >/dev/null 2>&1; then
    sh "$(dirname "$0")/../apt-install.sh" redis-server
    # The package starts a system-wide server; the tests do not use it.
    { systemctl disable --now redis-server || sudo -n systemctl disable --now redis-server; } \
        >/dev/null 2>&1 || true
fi
command -v redis-server
