"""The notebooks' `#| gpu` cells: `nbdev_test --flags gpu` on every notebook that holds one, side by side, a row each.

    python bench/notebooks.py --out notebooks.json                          # a GPU machine: every `#| gpu` notebook
    python bench/notebooks.py --flags '' --only 00_forces --out nb.json     # CPU: the same machinery, gpu cells off

A `#| gpu` cell runs only under `nbdev_test --flags gpu`; such a cell compares CUDA with the CPU, so it needs a GPU.
Each notebook runs in its own `nbdev_test` process (all at once: they are small and mostly wait on the CPU), its
output printed when it ends; `--out` gets one row per notebook (cells marked gpu, exit status, seconds) as each ends,
so a run stopped by a time cap keeps the notebooks that finished. Exit status 1 if a notebook failed."""
import argparse, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path
from figures import Figures


def gpu_cells(nb):
    "How many code cells of notebook `nb` are marked `#| gpu`."
    cells = json.loads(Path(nb).read_text())['cells']
    return sum(c['cell_type'] == 'code' and any(l.strip().replace(' ', '') == '#|gpu' for l in c['source'])
               for c in cells)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--nbs', default='nbs', help='the notebooks folder')
    p.add_argument('--flags', default='gpu', help="nbdev_test's --flags ('' runs the notebooks without gpu cells)")
    p.add_argument('--only', default='', help='comma-separated notebook names (default: every notebook with a gpu cell)')
    p.add_argument('--out', default=None, help='also write the figures to this JSON file')
    a = p.parse_args()
    only = set(filter(None, a.only.split(',')))
    nbs = [nb for nb in sorted(Path(a.nbs).glob('[0-9]*.ipynb')) if (nb.stem in only if only else gpu_cells(nb))]
    if not nbs: raise SystemExit(f'notebooks.py: error: no notebook to run in {a.nbs} (--only {a.only!r})')
    nbdev_test = shutil.which('nbdev_test')   # the console script: `python -c` calling nbdev_test() hangs in its workers
    if nbdev_test is None: raise SystemExit('notebooks.py: error: nbdev_test is not on the PATH (pip install nbdev)')
    fig = Figures(a.out, flags=a.flags, notebooks=[nb.name for nb in nbs])
    env = dict(os.environ, HF_HUB_OFFLINE='1', MPLBACKEND='Agg')
    start, running = time.perf_counter(), {}
    for nb in nbs:
        cmd = [nbdev_test, '--path', str(nb), '--flags', a.flags]
        log = tempfile.TemporaryFile('w+')   # not a pipe: a full pipe would stall a notebook nobody reads yet
        running[nb] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True, env=env), log)
    print(f'nbdev_test --flags {a.flags!r} on {", ".join(nb.name for nb in nbs)}', flush=True)
    while running:
        nb = next((nb for nb, (proc, _) in running.items() if proc.poll() is not None), None)
        if nb is None: time.sleep(0.2); continue
        proc, log = running.pop(nb); log.seek(0); out = log.read(); log.close()
        seconds = time.perf_counter() - start
        print(f'--- {nb.name}: exit status {proc.returncode} after {seconds:.0f} s\n{out.rstrip()}', flush=True)
        fig.row(notebook=nb.name, gpu_cells=gpu_cells(nb), returncode=proc.returncode, seconds=seconds,
                passed=proc.returncode == 0, output_tail=None if proc.returncode == 0 else out.splitlines()[-30:])
    passed = sum(r['passed'] for r in fig.d['rows'])
    fig.target(f'notebooks passing nbdev_test --flags {a.flags!r}', passed, len(nbs))
    if passed < len(nbs): sys.exit(1)
