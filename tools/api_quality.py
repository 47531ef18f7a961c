"""Measures what the literate-API issue asks for: blank parameter rows of the API reference (`nbs/api/*.qmd`, built by
`smalldocs api build --dir nbs`), export cells over 50 lines, module docstrings that are not a complete sentence and
library lines over 120 characters; and what the house's floors ask for (issue 19): export cells followed at once by a
cell that runs what they define, imports of csip modules inside functions, imports of a module of a later notebook
(a higher floor; a circle needs one). `--check` exits 1 when one of them is out of bounds."""
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

def defined_names(src:str) -> set:
    "The public names (else all names) an export cell defines at its top level: functions, classes, assignments."
    try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.startswith('#|')))
    except SyntaxError: return set()
    names = set()
    for n in tree.body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): names.add(n.name)
        elif isinstance(n, ast.Assign): names |= {t.id for t in n.targets if isinstance(t, ast.Name)}
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name): names.add(n.target.id)
    return {d for d in names if not d.startswith('_')} or names

def examples(nbs=ROOT/'nbs'):
    """Per notebook: (export cells that define something, those followed at once by a code cell that is no export
    cell, is run by the tests (not `eval: false`) and names one of the names they define)."""
    out = {}
    for nb in sorted(nbs.glob('[0-9]*.ipynb')):
        cells, n, k = json.loads(nb.read_text())['cells'], 0, 0
        for i, c in enumerate(cells):
            src = ''.join(c['source']) if c['cell_type'] == 'code' else ''
            if not re.match(r'\s*#\|\s*export\b', src) or not (names := defined_names(src)): continue
            n += 1
            nxt = cells[i + 1] if i + 1 < len(cells) else dict(cell_type='', source='')
            t = ''.join(nxt['source'])
            k += (nxt['cell_type'] == 'code' and not re.match(r'\s*#\|\s*export', t) and 'eval: false' not in t
                  and any(re.search(rf'\b{re.escape(d)}\b', t) for d in names))
        out[nb.name] = (k, n)
    return out

def _module_of(py:Path, lib:Path) -> str: return '.'.join(py.relative_to(lib.parent).with_suffix('').parts)

def csip_imports(lib=ROOT/'csip'):
    "`{module: [(imported csip module, line, inside a function)]}` of every generated module."
    out = {}
    for py in sorted(lib.rglob('*.py')):
        if py.name.startswith('_') and py.name != '__init__.py': continue
        mod, tree = _module_of(py, lib), ast.parse(py.read_text())
        pkg = mod if py.name == '__init__.py' else mod.rsplit('.', 1)[0]
        inner = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for n in ast.walk(f) if n is not f}
        found = []
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom):
                if n.level: target = '.'.join(pkg.split('.')[:len(pkg.split('.')) - n.level + 1] + [n.module or ''])
                else: target = n.module or ''
                targets = [target.rstrip('.')]
            elif isinstance(n, ast.Import): targets = [a.name for a in n.names]
            else: continue
            found += [(t, n.lineno, id(n) in inner) for t in targets if t == lib.name or t.startswith(lib.name + '.')]
        out[mod] = found
    return out

def floors(lib=ROOT/'csip'):
    "`{module: notebook}`: each generated module's notebook, whose place in the reading order is its floor."
    out = {}
    for py in lib.rglob('*.py'):
        m = re.search(r'File to edit: (?:\.\./)+nbs/(\S+)\.ipynb', py.read_text())
        if m: out[_module_of(py, lib)] = m[1]
    return out

def import_violations(lib=ROOT/'csip'):
    "(module, imported module, line) of every import of a module of the same or a later notebook (a floor up)."
    fl = floors(lib)
    return [(m, t, line) for m, found in csip_imports(lib).items() if m in fl
            for t, line, _ in found if t in fl and t != m and fl[t] >= fl[m]]

def inner_imports(lib=ROOT/'csip'):
    "(module, imported module, line) of every import of a csip module inside a function."
    return [(m, t, line) for m, found in csip_imports(lib).items() for t, line, inner in found if inner]

EXAMPLES_BOUND = 0.80   # share of export cells followed at once by their example (`examples`): issue 19

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
    ex = examples(); k_ex, n_ex = sum(k for k, _ in ex.values()), sum(n for _, n in ex.values())
    print(f'export cells followed by their example: {k_ex} of {n_ex} ({100 * k_ex / max(n_ex, 1):.0f}%)')
    if a.verbose: print(*[f'  {nb:28s} {k:3d} / {n}' for nb, (k, n) in ex.items()], sep='\n')
    up, inner = import_violations(), inner_imports()
    print(f'imports of a later notebook\'s module (a floor up, or a circle): {len(up)}',
          *[f'\n  {m}:{line} imports {t}' for m, t, line in up])
    print(f'imports of csip modules inside functions: {len(inner)} (at most 4)',
          *[f'\n  {m}:{line} imports {t}' for m, t, line in inner])
    # issue 19 asks 0.80: met on h19 (194 of 242), 197 of 252 after main's new cache cells; raise to 0.80 when written
    floors_bad = up or len(inner) > 4 or k_ex < EXAMPLES_BOUND * n_ex
    if a.check == 'lines' and ll or a.check == 'all' and (ll or big or bad or total and blank / total >= 0.10
                                                          or floors_bad):
        print('FAIL: out of bounds (blank rows < 10%, export cells <= 50 lines, docstrings end a sentence, lines <= 120, '
              f'examples >= {EXAMPLES_BOUND:.0%}, no import a floor up, <= 4 imports inside functions)')
        sys.exit(1)

if __name__ == '__main__': main()
