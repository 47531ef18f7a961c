"""`bench/gpu.sh --dry-run` on two of its steps, so that the prepared GPU run does not rot between GPU sessions: the
steps run (CPU, tiny sizes) and leave their JSON with figures and an 'ok' step block; a step stopped by its time cap
is recorded as such and the run goes on. The whole dry run (`OUT=... bash bench/gpu.sh --dry-run`, about 4 minutes on
2 cores) is the check to run by hand before a GPU session."""
import json, os, subprocess, sys, tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def dry_run(out, **env):
    e = dict(os.environ, OUT=str(out), PYTHON=sys.executable, PYTHONPATH=str(ROOT), **env)
    return subprocess.run(['bash', str(ROOT/'bench'/'gpu.sh'), '--dry-run'], cwd=ROOT, env=e, capture_output=True,
                          text=True, timeout=300)


def step(out, name): return json.loads((out/f'{name}.json').read_text())


def test_dry_run_steps(tmp_path):
    r = dry_run(tmp_path, STEPS='forces,banners')
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ['00_setup.json', '01_forces.json', '02_banners.json',
                                                          'logs.tar.gz']
    setup = step(tmp_path, '00_setup')
    assert setup['step']['status'] == 'ok' and setup['versions']['torch'] and setup['python']
    forces, banners = step(tmp_path, '01_forces'), step(tmp_path, '02_banners')
    assert [s['size'] for s in forces['rows']] == [32, 64] and all(s['matches_cpu'] for s in forces['rows'])
    assert all(s['banners_per_s'] > 0 and s['floor_per_s'] > 0 for s in forces['rows'])
    assert banners['rows'][0]['pairs_per_s'] > 0 and banners['rows'][0]['limited_by'] in ('decode', 'banners', 'write')
    for d in (forces, banners): assert d['step']['status'] == 'ok' and d['step']['returncode'] == 0
    with tarfile.open(tmp_path/'logs.tar.gz') as t:
        assert sorted(Path(n).name for n in t.getnames()) == ['00_setup.log', '01_forces.log', '02_banners.log']
    assert '| 02_banners | ok |' in r.stdout


def test_dry_run_step_over_its_cap(tmp_path):
    r = dry_run(tmp_path, STEPS='forces', CAP_FORCES='1')
    assert r.returncode == 1, r.stdout + r.stderr
    s = step(tmp_path, '01_forces')['step']
    assert (s['status'], s['returncode'], s['cap_s']) == ('timed out', 124, 1.0)
    assert 'time cap of 1 s' in s['error'] and s['log_tail'] is not None
    assert '| 01_forces | timed out |' in r.stdout
