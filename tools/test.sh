#!/usr/bin/env bash
# The project's test command: runs every notebook in nbs/ with nbdev_test, then pytest on tests/,
# and ends with one line "N passed, N failed" (a notebook counts as one test).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
export HF_HUB_OFFLINE=1 MPLBACKEND=Agg
logs=$(mktemp -d)
"$BIN/smalldocs" api build --dir nbs > /dev/null && "$BIN/smalldocs" render --quiet nbs \
  && "$BIN/python" tools/vendor_katex.py > /dev/null   # tests/test_browser.py visits the built site
passed=0; failed=0
for nb in nbs/[0-9]*.ipynb; do
  start=$(date +%s)
  if "$BIN/nbdev_test" --path "$nb" --flags slow > "$logs/nb.log" 2>&1; then
    passed=$((passed + 1)); echo "PASS $nb ($(( $(date +%s) - start )) s)"
  else
    failed=$((failed + 1)); echo "FAIL $nb ($(( $(date +%s) - start )) s)"; cat "$logs/nb.log"
  fi
done
if ls tests/test_*.py > /dev/null 2>&1; then
  "$BIN/python" -m pytest tests/ -q -rs --junitxml="$logs/pytest.xml"
  counts=$("$BIN/python" - "$logs/pytest.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == 'testsuite' else list(root)
n = lambda k: sum(int(s.get(k, 0)) for s in suites)
bad = n('failures') + n('errors')
print(n('tests') - bad - n('skipped'), bad, n('skipped'))
PY
)
  read p f s <<< "$counts"
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$s" != "0" ]; then echo "pytest skipped $s test(s): see the reasons above"; fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
