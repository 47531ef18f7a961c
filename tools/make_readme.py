"""Write README.md from nbs/index.ipynb, the way `nbdev_readme` would if Quarto were installed here.
Markdown cells are copied, code cells become fenced Python blocks, text outputs follow them; cells marked
`#| hide` are left out. `--check` exits 1 when README.md is out of step instead of writing it."""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
nb = json.loads((root / 'nbs' / 'index.ipynb').read_text())
parts = []
for cell in nb['cells']:
    src = ''.join(cell['source'])
    if src.lstrip().startswith('#| hide'): continue
    if cell['cell_type'] == 'markdown': parts.append(src)
    elif cell['cell_type'] == 'code':
        code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|'))
        parts.append(f'```python\n{code}\n```')
        for out in cell.get('outputs', []):
            text = out.get('text') or out.get('data', {}).get('text/markdown') or out.get('data', {}).get('text/plain')
            if text: parts.append(''.join(text) if 'text/markdown' in out.get('data', {}) else '    ' + ''.join(text).replace('\n', '\n    '))
parts = [p.replace('](images/', '](nbs/images/') for p in parts]
readme = '<!-- Written from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n\n' + '\n\n'.join(parts).rstrip() + '\n'
target = root / 'README.md'
if '--check' in sys.argv:
    sys.exit(0 if target.exists() and target.read_text() == readme else 1)
target.write_text(readme)
