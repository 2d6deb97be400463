#!/bin/sh
# Debian packages for the tests that need a real third-party program (tests/browser,
# tests/keyring, tests/redis call it when something is missing). Needs apt (Debian or Ubuntu)
# and root or password-less sudo; exit status 3 when it cannot install, so the tests can say
# why they skip.
#
#   tests/apt-install.sh PACKAGE...
#
# The tests run in parallel, in several binaries, and more than one may find its program
# missing at the same moment; apt installs one thing at a time and a second apt-get fails at
# once on dpkg's lock. So the installs here take turns (flock on this file), and apt-get waits
# for a lock held by anything else on the machine (a fresh machine's unattended upgrades)
# instead of failing. After its turn an install of what the previous one installed is a no-op.
set -eu

if [ -z "${RP_APT_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
    status=0
    RP_APT_LOCKED=1 flock -w 900 -E 75 "$0" sh "$0" "$@" || status=$?
    if [ "$status" = 75 ]; then
        echo "install.sh: another test's install held the lock for 15 minutes; run the tests again" >&2
        exit 3
    fi
    exit "$status"
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install.sh: no apt-get here; install $* yourself" >&2
    exit 3
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install.sh: installing $* needs root (or password-less sudo)" >&2
        exit 3
    fi
fi
export DEBIAN_FRONTEND=noninteractive
apt="$SUDO apt-get -q -o DPkg::Lock::Timeout=600"
# Package lists may be missing on a fresh machine; refresh them only when needed.
if ! $apt install -y --no-install-recommends "$@" >/dev/null 2>&1; then
    $apt update >/dev/null 2>&1 || true
    $apt install -y --no-install-recommends "$@" >&2 || {
        echo "install.sh: apt-get could not install $*" >&2
        exit 3
    }
fi
