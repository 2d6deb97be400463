#!/bin/sh
# A real Secret Service for the keyring tests (tests/tests/keyring.rs): Debian's
# gnome-keyring, the D-Bus session daemon and secret-tool, installed when missing
# (tests/apt-install.sh; exit status 3 when it cannot, so the tests can say why they skip). The
# tests start a private session bus and an unlocked keyring of
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
    sh "$(dirname "$0")/../apt-install.sh" gnome-keyring dbus-daemon libsecret-tools
fi
command -v gnome-keyring-daemon
command -v dbus-daemon
command -v secret-tool
