"""The figures of one bench script as a JSON file (`--out FILE.json`), rewritten atomically after every row, so that a
run cut short by its time cap keeps what it had measured. `bench/gpu.sh` adds its own `step` block to the same file.

    fig = Figures(args.out, machine='...', device='cuda')
    fig.row(size=256, banners_per_s=123456.0)
    fig.target('banners/s at 256 px', 123456.0, at_least=100_000)
"""
import datetime, shlex, subprocess, sys
from csip.utils import write_json


def commit():
    "The short commit of the working tree, or 'none' outside a git checkout."
    try: return subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip() or 'none'
    except OSError: return 'none'


class Figures:
    "A bench run's header, rows and targets, saved to `out` (if given) at every change."
    def __init__(self, out, **header):
        import torch
        self.out = out
        self.d = dict(header, torch=torch.__version__, commit=commit(), date=datetime.date.today().isoformat(),
                      command='python ' + ' '.join(shlex.quote(a) for a in sys.argv), rows=[], targets=[])
        self.save()

    def set(self, **kw):
        "Set top-level entries (e.g. measured rates, a comparison)."
        self.d.update(kw); self.save()

    def row(self, **r):
        "Append one measured row."
        self.d['rows'].append(r); self.save()

    def target(self, figure, value, at_least=None, note=''):
        "Record `value` of `figure` against its target (`met` is None where this machine has no target)."
        met = None if at_least is None else bool(value >= at_least)
        self.d['targets'].append(dict(figure=figure, value=value, at_least=at_least, met=met, note=note)); self.save()

    def save(self):
        if self.out: write_json(self.out, self.d, indent=1)
