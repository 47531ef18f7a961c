"""Measures what the literate-API issue asks for: blank parameter rows of the API reference (`nbs/api/*.qmd`, built by
`smalldocs api build --dir nbs`), export cells over 50 lines, module docstrings that are not a complete sentence and
library lines over 120 characters. `--check` exits 1 when one of them is out of bounds."""
import argparse, ast, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def blank_rows(api=ROOT/'nbs'/'api'):
    "Per page: (blank, all) parameter rows of the API tables."
    out = {}
    for qmd in sorted(api.glob('*.qmd')):
        rows = [l for l in qmd.read_text().splitlines() if l.startswith('| `')]
        out[qmd.stem] = (sum(l.rstrip().endswith('|  |') or l.rstrip().endswith('| |') for l in rows), len(rows))
    return out

def export_cells(nbs=ROOT/'nbs'):
    "(notebook, cell index, lines) of every export cell."
    for nb in sorted(nbs.glob('[0-9]*.ipynb')):
        for i, c in enumerate(json.loads(nb.read_text())['cells']):
            src = ''.join(c['source']) if c['cell_type'] == 'code' else ''
            if re.match(r'\s*#\|\s*export', src):
                yield nb.name, i, len([l for l in src.splitlines() if not l.startswith('#|')])

def module_docstrings(lib=ROOT/'csip'):
    "(module, docstring) of every generated module."
    for py in sorted(lib.rglob('*.py')):
        if py.name.startswith('_') and py.name != '__init__.py': continue
        doc = ast.get_docstring(ast.parse(py.read_text()))
        if doc is not None or py.name != '__init__.py': yield str(py.relative_to(ROOT)), doc or ''

def long_lines(lib=ROOT/'csip', limit=120):
    """(file, line) of library lines over `limit` characters. nbdev's own output is left out: `_modidx.py`, and the
    first line of `__all__`, which nbdev wraps at 120 characters *before* prefixing `__all__ = ` (nbdev/maker.py)."""
    return [(str(p.relative_to(ROOT)), i + 1) for p in sorted(lib.rglob('*.py')) if p.name != '_modidx.py'
            for i, l in enumerate(p.read_text().splitlines()) if len(l) > limit and not l.startswith('__all__ = [')]

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--check', choices=['lines', 'all'], help='exit 1 when long lines (or any measure) are out of bounds')
    p.add_argument('-v', '--verbose', action='store_true')
    a = p.parse_args()
    rows = blank_rows(); blank = sum(b for b, _ in rows.values()); total = sum(n for _, n in rows.values())
    print(f'blank parameter rows: {blank} of {total} ({100*blank/max(total,1):.1f}%)')
    for k, (b, n) in rows.items(): print(f'  {k:12s} {b:4d} / {n}')
    cells = list(export_cells()); big = [c for c in cells if c[2] > 50]
    print(f'export cells: {len(cells)}, over 50 lines: {len(big)}', *[f'\n  {n} cell {i}: {l}' for n, i, l in big])
    bad = [(m, d) for m, d in module_docstrings() if not re.search(r'[.!?]$', d.strip())]
    print(f'module docstrings not ending a sentence: {len(bad)}', *[f'\n  {m}: {d!r}' for m, d in bad])
    ll = long_lines(); n = sum(1 for p in (ROOT/'csip').rglob('*.py') if p.name != '_modidx.py'
                               for _ in p.read_text().splitlines())
    print(f'library lines over 120 characters: {len(ll)} of {n}')
    if a.verbose: print(*[f'  {f}:{i}' for f, i in ll], sep='\n')
    if a.check == 'lines' and ll or a.check == 'all' and (ll or big or bad or total and blank / total >= 0.10):
        print('FAIL: out of bounds (blank rows < 10%, export cells <= 50 lines, docstrings end a sentence, lines <= 120)')
        sys.exit(1)

if __name__ == '__main__': main()
