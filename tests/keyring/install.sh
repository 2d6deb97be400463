#!/bin/sh
# A real Secret Service for the keyring tests (tests/tests/keyring.rs): Debian's
# gnome-keyring, the D-Bus session daemon and secret-tool, installed when missing. Needs apt
# (Debian or Ubuntu) and root or sudo; exit status 3 when it cannot install, so the tests
# can say why they skip. The tests start a private session bus and an unlocked keyring of
# their own in a temporary home; nothing of the user's is touched.
#
#   tests/keyring/install.sh          install if missing, then print the three paths
set -eu

have() {
    command -v gnome-keyring-daemon >/dev/null 2>&1 \
        && command -v dbus-daemon >/dev/null 2>&1 \
        && command -v secret-tool >/dev/null 2>&1
}

if ! have; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install.sh: no apt-get here; install gnome-keyring, dbus and secret-tool yourself" >&2
        exit 3
    fi
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            SUDO="sudo -n"
        else
            echo "install.sh: installing gnome-keyring needs root (or password-less sudo)" >&2
            exit 3
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    pkgs="gnome-keyring dbus-daemon libsecret-tools"
    # Package lists may be missing on a fresh machine; refresh them only when needed.
    if ! $SUDO apt-get install -y -q --no-install-recommends $pkgs >/dev/null 2>&1; then
        $SUDO apt-get update -q >/dev/null 2>&1 || true
        $SUDO apt-get install -y -q --no-install-recommends $pkgs >&2 || {
            echo "install.sh: apt-get could not install $pkgs" >&2
            exit 3
        }
    fi
fi
command -v gnome-keyring-daemon
command -v dbus-daemon
command -v secret-tool
