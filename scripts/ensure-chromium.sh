#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the review page's browser test.
# Installs the `chromium` package with apt-get when it is missing; exits 0 either way so the
# test run goes on (the browser test then skips and says why). Set SHORTVID_SKIP_CHROMIUM=1 to
# skip the install.
set -uo pipefail
CHROMIUM="${SHORTVID_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "${SHORTVID_SKIP_CHROMIUM:-}" = "1" ]; then
  echo "ensure-chromium: SHORTVID_SKIP_CHROMIUM=1, not installing; the browser test will skip" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: no apt-get on this machine; install Chromium at $CHROMIUM by hand" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "ensure-chromium: not root and no password-less sudo; cannot install chromium" >&2
    exit 0
  fi
fi
echo "ensure-chromium: installing Debian's chromium package (once per machine)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } >/tmp/ensure-chromium.log 2>&1; then
  echo "ensure-chromium: apt-get failed (see /tmp/ensure-chromium.log); the browser test will skip" >&2
  tail -5 /tmp/ensure-chromium.log >&2
fi
exit 0
