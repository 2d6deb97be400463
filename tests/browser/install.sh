#!/bin/sh
# Debian's Chromium and ChromeDriver for the browser tests (tests/tests/browser.rs), installed
# when missing. Needs apt (Debian or Ubuntu) and root or sudo; exit status 3 when it cannot
# install, so the tests can say why they skip.
#
#   tests/browser/install.sh          install if missing, then print the two paths
set -eu

have() { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }

if ! have; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install.sh: no apt-get here; install Chromium and ChromeDriver yourself" >&2
        exit 3
    fi
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            SUDO="sudo -n"
        else
            echo "install.sh: installing chromium needs root (or password-less sudo)" >&2
            exit 3
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Package lists may be missing on a fresh machine; refresh them only when needed.
    if ! $SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null 2>&1; then
        $SUDO apt-get update -q >/dev/null 2>&1 || true
        $SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver >&2 || {
            echo "install.sh: apt-get could not install chromium and chromium-driver" >&2
            exit 3
        }
    fi
fi
command -v chromium
command -v chromedriver
