"""The bookkeeping of `bench/gpu.sh`: the setup step's facts, each step's status added to its JSON, the final summary.

    python bench/gpu_step.py setup --out OUT/00_setup.json [--wheels .whl]
    python bench/gpu_step.py finish OUT/01_forces.json --step 01_forces --rc 0 --seconds 41.2 --cap 45 --log OUT/01_forces.log --command '...'
    python bench/gpu_step.py summary OUT

`finish` keeps whatever figures the step's script wrote to the JSON (written row by row, so a step stopped by its
time cap keeps what it measured) and adds a `step` block: status ('ok', 'failed', 'timed out', 'not run'), exit status,
seconds, cap, the command, and the log's last lines where the step did not succeed. `summary` prints one line per
step (status, seconds, each target's value and whether it was met) and exits 1 if a step did not succeed.
This file imports neither torch nor csip at its top, so that it works before anything is installed."""
import argparse, importlib.metadata as md, json, os, platform, shutil, subprocess, sys
from pathlib import Path

PACKAGES = ('torch', 'torchvision', 'timm', 'numpy', 'scipy', 'pillow', 'pycocotools', 'fastcore', 'open_clip_torch',
            'faiss-cpu', 'nbdev', 'execnb', 'ipython', 'ipywidgets', 'scikit-learn', 'sentence-transformers', 'csip')
HEADLINE = ('banners_per_s', 'pairs_per_s')   # row figures the summary shows for a step without targets
TIMED_OUT = (124, 137)   # what `timeout` returns when it stopped the command (TERM, then KILL)


def read(path):
    "The JSON object in `path`, or {} when the step wrote none (or a broken one, which the step block reports)."
    try: return json.loads(Path(path).read_text())
    except (OSError, ValueError): return {}


def write(path, d):
    tmp = Path(str(path) + '.tmp'); tmp.write_text(json.dumps(d, indent=1, default=str)); os.replace(tmp, path)


def tail(path, n=40):
    try: return Path(path).read_text(errors='replace').splitlines()[-n:]
    except OSError: return []


def versions():
    out = {}
    for p in PACKAGES:
        try: out[p] = md.version(p)
        except md.PackageNotFoundError: out[p] = None
    return out


def setup(a):
    "The machine, the versions and the carried wheels, as the setup step's JSON."
    smi = shutil.which('nvidia-smi')
    d = dict(python=sys.version.split()[0], executable=sys.executable, machine=platform.machine(), cores=os.cpu_count(),
             nvidia_smi=subprocess.run([smi], capture_output=True, text=True).stdout if smi else None,
             versions=versions(), wheels=sorted(p.name for p in Path(a.wheels).glob('*.whl')) if a.wheels else [])
    try:
        import torch
        d.update(cuda=torch.version.cuda, cuda_available=torch.cuda.is_available(),
                 gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    except ImportError as e: d.update(torch_error=str(e))
    write(a.out, d)
    print(f"python {d['python']} ({d['executable']}), {d['cores']} cores; gpu: {d.get('gpu')}; cuda {d.get('cuda')}")
    print('versions: ' + ', '.join(f'{k} {v}' for k, v in d['versions'].items()))


def finish(a):
    "Add the step block to the step's JSON (made if the step wrote none)."
    d = read(a.file)
    status = 'ok' if a.rc == 0 else 'timed out' if a.rc in TIMED_OUT else 'failed'
    error = None
    if a.skipped: status, error = 'not run', 'no time was left in the run'
    if status == 'ok' and a.figures and not set(d) - {'step'}: status, error = 'failed', 'the step wrote no figures'
    elif status == 'timed out': error = f'stopped by its time cap of {a.cap:.0f} s'
    elif status == 'failed': error = f'exit status {a.rc}'
    d['step'] = dict(name=a.step, status=status, returncode=a.rc, seconds=round(a.seconds, 1), cap_s=a.cap,
                     command=a.command, log=Path(a.log).name if a.log else None, error=error,
                     log_tail=tail(a.log) if status != 'ok' and a.log else None)
    for item in a.attach or []:
        key, _, path = item.partition('=')
        d[key] = Path(path).read_text(errors='replace')[-20000:] if Path(path).is_file() else None
    write(a.file, d)
    print(f'{a.step}: {status} in {a.seconds:.0f} s (cap {a.cap:.0f} s)' + (f': {error}' if error else ''), flush=True)


def number(v): return f'{v:,.0f}' if abs(v) >= 100 else f'{v:.3g}'


def summary(a):
    "One line per step's JSON in the folder; exit status 1 if any step did not succeed."
    bad = 0
    print('| step | status | seconds | figures |\n| --- | --- | --- | --- |')
    for f in sorted(Path(a.folder).glob('[0-9][0-9]_*.json')):
        d = read(f); s = d.get('step', {})
        figs = '; '.join(f"{t['figure']}: {number(t['value'])}" + ('' if t.get('at_least') is None else
                         f" (target {t['at_least']:,}: {'met' if t['met'] else 'NOT met'})") for t in d.get('targets', []))
        figs = figs or '; '.join((f"{r['size']} px: " if 'size' in r else '') + f'{k} {number(r[k])}'
                                 for r in d.get('rows', [])[:3] for k in HEADLINE if r.get(k) is not None)
        print(f"| {f.stem} | {s.get('status', 'no step block')} | {s.get('seconds', '-')} | {figs or '-'} |")
        bad += s.get('status') != 'ok'
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='what', required=True)
    s = sub.add_parser('setup'); s.add_argument('--out', required=True); s.add_argument('--wheels', default=None)
    f = sub.add_parser('finish'); f.add_argument('file')
    f.add_argument('--step', required=True); f.add_argument('--rc', type=int, required=True)
    f.add_argument('--seconds', type=float, required=True); f.add_argument('--cap', type=float, required=True)
    f.add_argument('--log', default=None); f.add_argument('--command', default='')
    f.add_argument('--skipped', action='store_true', help='the step was not run (no time left)')
    f.add_argument('--figures', action='store_true', help='the step must have written its figures')
    f.add_argument('--attach', action='append', help='key=file: embed the end of a text file under key')
    m = sub.add_parser('summary'); m.add_argument('folder')
    a = p.parse_args()
    dict(setup=setup, finish=finish, summary=summary)[a.what](a)
