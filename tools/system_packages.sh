#!/usr/bin/env bash
# The system packages tools/test.sh needs: Debian's chromium (tests/test_browser.py drives it; never
# `playwright install`, which downloads a browser of its own) and npm (tools/vendor_katex.py fetches KaTeX for the
# offline docs). apt-get runs only when one of them is missing: as root, or through `sudo -n` (never a prompt).
# tools/setup.sh calls this; it is the one place that installs them.
set -euo pipefail
missing=$( { [ -x "${CSIP_CHROMIUM:-/usr/bin/chromium}" ] || echo chromium; command -v npm > /dev/null || echo npm; } \
           | tr '\n' ' ')
if [ -z "${missing// /}" ]; then echo "system packages present: chromium, npm"; exit 0; fi
echo "installing system packages: $missing"
SUDO=$([ "$(id -u)" = 0 ] || echo "sudo -n")
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
