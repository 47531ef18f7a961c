"""Make the docs site typeset its formulas offline.

smalldocs links KaTeX from a CDN, and offline (or behind a strict firewall) the formulas stay raw TeX. This script
installs the same KaTeX version from the npm registry, once, into `.cache/katex/`. It then copies its `dist/` next to
the pages (`nbs/_docs/katex/`) and points every page at that copy. Run it after `smalldocs render nbs`; tools/test.sh
and .ci/run do.
"""
import os, re, shutil, subprocess, sys
from pathlib import Path
from smalldocs.layout import KATEX as CDN   # e.g. https://cdn.jsdelivr.net/npm/katex@0.16.11/dist

ROOT = Path(__file__).resolve().parent.parent


def katex_dist(cache: Path) -> Path:
    "The `dist/` folder of the KaTeX version smalldocs links, installed from the npm registry into `cache` if absent."
    version = re.search(r'katex@([\w.\-]+)/', CDN + '/').group(1)
    dist = cache / 'node_modules' / 'katex' / 'dist'
    if not (dist / 'katex.min.js').is_file():
        if shutil.which('npm') is None: sys.exit('npm not found: install Node.js and npm (Debian: apt-get install npm)')
        subprocess.run(['npm', 'install', '--prefix', str(cache), '--no-audit', '--no-fund', '--loglevel=error',
                        f'katex@{version}'], check=True)
    return dist


def vendor(site: Path, cache: Path) -> int:
    "Copy KaTeX into `site/katex` and rewrite the CDN address in every page of `site`; returns the number of pages changed."
    if not (site / 'index.html').is_file(): sys.exit(f'{site}/index.html not found: run `smalldocs render nbs` first')
    shutil.copytree(katex_dist(cache), site / 'katex', dirs_exist_ok=True)
    changed = 0
    for page in site.rglob('*.html'):
        text = page.read_text(encoding='utf-8')
        if CDN in text:
            page.write_text(text.replace(CDN, os.path.relpath(site / 'katex', page.parent)), encoding='utf-8')
            changed += 1
    return changed


if __name__ == '__main__':
    site = ROOT / 'nbs' / '_docs'
    n = vendor(site, ROOT / '.cache' / 'katex')
    print(f'KaTeX served from {site.relative_to(ROOT)}/katex/ on {n} page(s)')
