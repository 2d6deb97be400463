#!/bin/sh
# Debian's Chromium and ChromeDriver for the browser tests (tests/tests/browser.rs), installed
# when missing (tests/apt-install.sh; exit status 3 when it cannot, so the tests can say why
# they skip).
#
#   tests/browser/install.sh          install if missing, then print the two paths
set -eu

have() { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }

if ! have; then
    sh "$(dirname "$0")/../apt-install.sh" chromium chromium-driver
fi
command -v chromium
command -v chromedriver
