#!/usr/bin/env bash
# Debian's chromium and chromium-driver for the browser end-to-end test (tests/test_browser.py).
# Called by `make test`; CI gets the browser the same way. Idempotent: does nothing when both
# are installed. Selenium drives the system binaries: no browser is downloaded at run time.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install_browser: need root (or sudo) to apt-get install chromium chromium-driver" >&2
    exit 1
  fi
fi
echo "installing chromium and chromium-driver (Debian packages, once)" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  chromium chromium-driver fonts-dejavu-core >/dev/null
command -v chromium >/dev/null && command -v chromedriver >/dev/null
