#!/usr/bin/env bash
# Headless Chromium for the report's browser test (tests/python/test_report_browser.py).
# Installs Debian's `chromium` package with apt-get only when no chromium is on PATH and we can
# become root; otherwise prints one line and exits 0: the browser test then skips with that reason.
set -uo pipefail
for name in chromium chromium-browser google-chrome; do
  if command -v "$name" >/dev/null 2>&1; then exit 0; fi
done
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_chromium: no chromium on PATH and no apt-get; the report's browser test will be skipped"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "install_chromium: no chromium on PATH and no root or sudo; install Debian's chromium package to run the browser test"
  exit 0
fi
echo "install_chromium: installing Debian's chromium package (headless browser for the report test)"
export DEBIAN_FRONTEND=noninteractive
# another apt run may hold the lock for a while: wait for it instead of failing
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq \
  && $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends chromium >/dev/null \
  || echo "install_chromium: apt-get install chromium failed; the report's browser test will be skipped"
exit 0
