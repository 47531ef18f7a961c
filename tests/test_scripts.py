"""Every console script run as a user runs it, and its exit status checked.

Each script is started as a subprocess through the same two lines pip writes for a console script
(`from <module> import <function>; sys.exit(<function>())`, read from `settings.ini`), on the fixtures. A success must
exit 0 (before issue 20, `sys.exit(<returned object>)` made csip_banners, csip_train and csip_export exit 1 and print
their return value); a user's mistake must exit 2 with one line `<script>: error: ...` and no traceback; a stop by
SIGTERM/SIGINT exits 143/130 after saving.
"""
import configparser, json, os, shutil, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / 'data' / 'fixtures'
ENV = {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1', 'MPLBACKEND': 'Agg'}
TINY = ['--image_encoder', 'tiny_cnn', '--banner_encoder', 'banner_cnn', '--image_size', '32', '--batch_size', '4',
        '--max_steps', '2', '--workers', '0', '--no_progress', '--device', 'cpu']


def console_scripts() -> dict:
    "`{script: 'module:function'}` as `settings.ini` declares them (what pip installs)."
    cfg = configparser.ConfigParser(); cfg.read(ROOT / 'settings.ini')
    return dict(s.split('=', 1) for s in cfg['DEFAULT']['console_scripts'].split())


@pytest.fixture(scope='module')
def bin_dir(tmp_path_factory):
    "A folder of entry-point files, one per console script, written as pip writes them."
    d = tmp_path_factory.mktemp('bin')
    for name, target in console_scripts().items():
        module, func = target.split(':')
        (d / name).write_text(f"import sys\nfrom {module} import {func}\n"
                              f"if __name__ == '__main__':\n    sys.exit({func}())\n")
    return d


def run(bin_dir, script, *args, timeout=600):
    "Run console script `script` with `args`; the CompletedProcess."
    return subprocess.run([sys.executable, str(bin_dir / script), *map(str, args)], capture_output=True, text=True,
                          env=ENV, timeout=timeout, cwd=bin_dir)


def assert_mistake(r, script, says):
    "Status 2, no traceback, and the last line of stderr is the one error line, containing `says`."
    assert r.returncode == 2, (r.returncode, r.stderr[-3000:])
    assert 'Traceback' not in r.stderr, r.stderr[-3000:]
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f'{script}: error: ') and says in last, last


@pytest.fixture(scope='module')
def work(bin_dir, tmp_path_factory):
    "A banner cache of the COCO fixture, a 2-step run on it and its export, made by the scripts (each must exit 0)."
    d = tmp_path_factory.mktemp('work')
    coco = [f"coco:{FIX / 'coco/instances_val.json'}", d / 'banners', '--image_dir', FIX / 'coco/images',
            '--pairs_per_image', '0', '--both_orders', '--workers', '0', '--quiet']
    runs = dict(banners=run(bin_dir, 'csip_banners', *coco),
                train=run(bin_dir, 'csip_train', '--out_dir', d / 'run', '--data', f"cache:{d / 'banners'}", *TINY),
                export=None)
    runs['export'] = run(bin_dir, 'csip_export', d / 'run/checkpoint.pt', d / 'export')
    return d, runs


def test_every_script_is_tested():
    "The scripts this module runs are those `settings.ini` declares."
    assert set(console_scripts()) == {'csip_scenes', 'csip_banners', 'csip_train', 'csip_export', 'csip_evaluate',
                                      'csip_quickstart'}


@pytest.mark.parametrize('step', ['banners', 'train', 'export'])
def test_success_exits_0(work, step):
    "Finding 1: a success exits 0 and prints no return value (`BannerCache(...)`, a path) to stderr."
    r = work[1][step]
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'Traceback' not in r.stderr and 'BannerCache(' not in r.stderr and 'checkpoint.pt' not in r.stderr


def test_banners_check_exits_0(bin_dir, work):
    r = run(bin_dir, 'csip_banners', 'coco:unused', work[0] / 'banners', '--check')
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'complete' in r.stdout


def test_scenes_exits_0(bin_dir, tmp_path):
    r = run(bin_dir, 'csip_scenes', '--out_dir', tmp_path / 'scenes', '--n_train', '4', '--n_val', '2', '--n_test', '2',
            '--image_size', '64', '--workers', '1', '--set', 'n_relation_train=2', '--set', 'unrel_min_positives=1')
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / 'scenes').is_dir()


def test_evaluate_exits_0_and_keeps_rows(bin_dir, work, tmp_path):
    "Finding 9: a second csip_evaluate into the folder keeps the first call's row; a rerun replaces its own row."
    d = tmp_path / 'eval'
    args = ['--spatialsense', FIX / 'spatialsense', '--seeds', '1', '--workers', '0', '--image_size', '32']
    r1 = run(bin_dir, 'csip_evaluate', d, '--models', 'banners=banners', *args)
    assert r1.returncode == 0, r1.stderr[-3000:]
    r2 = run(bin_dir, 'csip_evaluate', d, '--models', f"csip=checkpoint:{work[0] / 'run/checkpoint.pt'}", *args)
    assert r2.returncode == 0, r2.stderr[-3000:]
    models = json.loads((d / 'results.json').read_text())['models']
    assert list(models) == ['banners', 'csip']
    assert models['banners']['command'].startswith('csip_evaluate ') and 'banners=banners' in models['banners']['command']
    assert 'csip=checkpoint:' in models['csip']['command']
    report = (d / 'report.md').read_text()
    assert '| banners ' in report and '| csip ' in report
    r3 = run(bin_dir, 'csip_evaluate', d, '--models', 'banners=banners', *args, '--seeds', '1')
    assert r3.returncode == 0, r3.stderr[-3000:]
    models3 = json.loads((d / 'results.json').read_text())['models']
    assert list(models3) == ['banners', 'csip'] and models3['banners']['command'] != models['banners']['command']
    # finding 7: a damaged feature cache (a .npy that would need allow_pickle) is named and computed again
    npy = sorted((d / 'features').rglob('*.npy'))[0]
    npy.write_bytes(b'\x93NUMPY\x01\x00v\x00{"descr": "|O", "fortran_order": False, "shape": (2,), }' + b' ' * 50 + b'\n')
    r4 = run(bin_dir, 'csip_evaluate', d, '--models', 'banners=banners', *args)
    assert r4.returncode == 0 and f'{npy}: damaged feature cache, computed again' in r4.stdout, r4.stderr[-3000:]


def test_quickstart_exit_status(bin_dir, tmp_path):
    """csip_quickstart's status: 0 when its job returns, 2 for a mistake. The job itself (minutes) is stubbed here: it is
    run end to end by nbs/09_quickstart.ipynb; this checks the console-script path around it."""
    stub = tmp_path / 'csip_quickstart_stub'
    stub.write_text("import sys, csip.quickstart as q\nq.run_quickstart = lambda *a, **k: __import__('pathlib').Path('r')"
                    "\nif __name__ == '__main__':\n    sys.exit(q.csip_quickstart())\n")
    r = subprocess.run([sys.executable, str(stub), '--preset', 'test'], capture_output=True, text=True, env=ENV)
    assert (r.returncode, r.stderr) == (0, ''), r.stderr[-3000:]
    assert_mistake(run(bin_dir, 'csip_quickstart', '--preset', 'nope', '--out_root', tmp_path), 'csip_quickstart',
                   'nope')


def test_config_checked_before_writing(bin_dir, tmp_path):
    "Finding 6: an invalid value is one line, and nothing is written (the corrected rerun is not refused)."
    out = tmp_path / 'c'
    coco = [f"coco:{FIX / 'coco/instances_val.json'}", out, '--image_dir', FIX / 'coco/images', '--workers', '0', '--quiet']
    assert_mistake(run(bin_dir, 'csip_banners', *coco, '--set', 'cache.banner.n_dirs=-5'), 'csip_banners', 'n_dirs')
    assert not out.exists()
    assert run(bin_dir, 'csip_banners', *coco, '--set', 'cache.banner.n_dirs=8').returncode == 0


@pytest.fixture(scope='module')
def hostile(tmp_path_factory):
    "Files a user might hand a script by mistake (or on purpose)."
    d = tmp_path_factory.mktemp('hostile')
    (d / 'list.json').write_text('[1, 2, 3]')
    (d / 'bad.npy').write_bytes(b'\x93NUMPY\x01\x00v\x00{"descr": "|O", "fortran_order": False, "shape": (2,), }')
    import pickle
    class Payload:
        def __reduce__(self): return (os.system, (f"touch {d / 'ran'}",))
    (d / 'evil.pt').write_bytes(pickle.dumps({'config': Payload()}))
    (d / 'not_weights.pth').write_bytes(b'not a weights file at all')
    return d


MISTAKES = [
    ('csip_scenes', ['--out_dir', '{tmp}/s', '--set', 'n_train=-1'], 'n_train'),
    ('csip_scenes', ['--out_dir', '{tmp}/s', '--config', '{hostile}/list.json'], 'list.json'),
    ('csip_banners', ['nope:x', '{tmp}/b'], 'nope'),
    ('csip_banners', ['coco:{tmp}/missing.json', '{tmp}/b'], 'missing.json'),
    ('csip_banners', ['coco:x', '{tmp}/b', '--config', '{hostile}/list.json'], 'list.json'),
    ('csip_banners', ['coco:x', '{tmp}/none', '--check'], 'manifest'),
    ('csip_train', ['--out_dir', '{tmp}/t', '--config', '{hostile}/list.json', '--data', 'synthetic:8'], 'list.json'),
    ('csip_train', ['--out_dir', '{tmp}/t', '--config', '{hostile}/evil.pt', '--data', 'synthetic:8'], 'evil.pt'),
    ('csip_train', ['--out_dir', '{tmp}/t', '--data', 'synthetic:8', '--image_weights', '{hostile}/not_weights.pth',
                    '--image_encoder', 'resnet18', '--batch_size', '4'], 'not_weights.pth'),
    ('csip_train', ['--out_dir', '{tmp}/t', '--data', 'cache:{tmp}/nothing'], 'nothing'),
    ('csip_train', ['--out_dir', '{tmp}/t', '--data', 'synthetic:abc'], 'synthetic'),
    ('csip_export', ['{tmp}/missing.pt', '{tmp}/e'], 'missing.pt'),
    ('csip_export', ['{hostile}/evil.pt', '{tmp}/e'], 'evil.pt'),
    ('csip_evaluate', ['{tmp}/ev', '--models', 'x=nope:1'], 'nope'),
    ('csip_evaluate', ['{tmp}/ev', '--models', 'b=banners', '--gqa', '{tmp}'], str('{tmp}')),
    ('csip_quickstart', ['--preset', 'test', '--set', 'train.epoch=2', '--out_root', '{tmp}'], 'epoch'),
]


@pytest.mark.parametrize('script,args,says', MISTAKES, ids=[f'{s}-{i}' for i, (s, _, _) in enumerate(MISTAKES)])
def test_mistake_is_one_line(bin_dir, hostile, tmp_path, script, args, says):
    "Findings 1 and 7: a user's mistake exits 2 with one line naming what and where, never a traceback; no code runs."
    fill = lambda s: s.format(tmp=tmp_path, hostile=hostile)
    assert_mistake(run(bin_dir, script, *map(fill, args)), script, fill(says))
    assert not (hostile / 'ran').exists()


def coco_copy(d, edit=None):
    "A copy of the COCO fixture (annotations and images) in `d`, its annotations passed through `edit`."
    shutil.copytree(FIX / 'coco/images', d / 'images')
    ann = json.loads((FIX / 'coco/instances_val.json').read_text())
    (d / 'instances.json').write_text(json.dumps(edit(ann) if edit else ann))
    return [f"coco:{d / 'instances.json'}", '--image_dir', d / 'images', '--pairs_per_image', '0', '--both_orders',
            '--workers', '0', '--quiet']


def malformed(ann):
    "Four annotations with the malformed masks of finding 3, beside the fixture's good ones."
    h, w = 48, 64
    bad = {301: {'counts': [3000, 10, 100], 'size': [h, w]},          # counts longer than the image
           302: {'counts': [100, -5, h * w - 95], 'size': [h, w]},    # a negative count
           303: [[200.0, 200.0, 210.0, 200.0, 210.0, 210.0]],         # a polygon outside the image, its box inside
           304: {'counts': [100, 50], 'size': [h, w]}}                # counts shorter than the image
    ann['annotations'] += [dict(id=k, image_id=1, category_id=1, segmentation=s, area=500.0, bbox=[5, 5, 30, 30],
                                iscrowd=0) for k, s in bad.items()]
    return ann


def test_malformed_masks_skipped_and_named(bin_dir, tmp_path):
    "Finding 3: each malformed mask is skipped and named (the build goes on); --strict stops naming file and record."
    args = coco_copy(tmp_path, malformed)
    r = run(bin_dir, 'csip_banners', args[0], tmp_path / 'cache', *args[1:])
    assert r.returncode == 0, r.stderr[-3000:]
    for k in (301, 302, 303, 304): assert f'annotation {k} (image 1)' in r.stderr
    skipped = json.loads((tmp_path / 'cache/manifest.json').read_text())['source']['skipped']
    assert {s['record'].split(' (')[0]: s['reason'] for s in skipped} == {
        'annotation 301': 'RLE counts not the image size', 'annotation 302': 'malformed RLE',
        'annotation 303': 'polygon covers no pixel', 'annotation 304': 'RLE counts not the image size'}
    r = run(bin_dir, 'csip_banners', args[0], tmp_path / 'strict', *args[1:], '--strict')
    assert_mistake(r, 'csip_banners', f"{tmp_path / 'instances.json'}: annotation 301 (image 1): RLE counts add up to")


def test_corrupt_image_skipped_before_training(bin_dir, tmp_path):
    "Finding 4: a truncated image is found by csip_banners, its pairs skipped and named; training runs on the rest."
    args = coco_copy(tmp_path)
    bad = tmp_path / 'images/000000000002.jpg'; bad.write_bytes(bad.read_bytes()[:-300])
    r = run(bin_dir, 'csip_banners', args[0], tmp_path / 'cache', *args[1:])
    assert r.returncode == 0, r.stderr[-3000:]
    assert f'{bad}: not decodable (' in r.stderr
    assert json.loads((tmp_path / 'cache/manifest.json').read_text())['source']['skip_images'] == [str(bad)]
    r = run(bin_dir, 'csip_train', '--out_dir', tmp_path / 'run', '--data', f"cache:{tmp_path / 'cache'}", *TINY,
            '--batch_size', '2')
    assert r.returncode == 0, r.stderr[-3000:]
    r = run(bin_dir, 'csip_banners', args[0], tmp_path / 'strict', *args[1:], '--strict')
    assert_mistake(r, 'csip_banners', f'{bad}: not decodable')


def limit_file_size(n):
    "A `preexec_fn`: files of at most `n` bytes (a full disk, as the writer sees it), SIGXFSZ ignored."
    def f():
        import resource
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, n)); signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return f


def test_full_disk_is_one_line(bin_dir, work, tmp_path):
    "Finding 5: a write that fails names the file and what it needed, leaves no partial file, and the old one stays."
    args = coco_copy(tmp_path)
    r = subprocess.run([sys.executable, str(bin_dir / 'csip_banners'), *map(str, [args[0], tmp_path / 'cache', *args[1:]])],
                       capture_output=True, text=True, env=ENV, preexec_fn=limit_file_size(20000))
    assert_mistake(r, 'csip_banners', f"{tmp_path / 'cache/shard_00000.npy'}: could not be written (File too large; ")
    assert 'bytes needed' in r.stderr.strip().splitlines()[-1]
    assert not list((tmp_path / 'cache').glob('*.tmp'))
    run_dir = tmp_path / 'run'; shutil.copytree(work[0] / 'run', run_dir)
    before = (run_dir / 'checkpoint.pt').read_bytes()
    r = subprocess.run([sys.executable, str(bin_dir / 'csip_train'), '--out_dir', str(run_dir), '--data',
                        f"cache:{work[0] / 'banners'}", *TINY, '--resume', '--max_steps', '4'],
                       capture_output=True, text=True, env=ENV, preexec_fn=limit_file_size(len(before) // 2))
    assert_mistake(r, 'csip_train', f"{run_dir / 'checkpoint.pt'}: could not be written (")
    assert (run_dir / 'checkpoint.pt').read_bytes() == before and not list(run_dir.glob('*.tmp'))


def test_shards_verified(bin_dir, work, tmp_path):
    "Finding 8: a shard overwritten with other numbers of its shape fails --check; a manifest on /dev/zero is refused."
    cache = tmp_path / 'cache'; shutil.copytree(work[0] / 'banners', cache)
    shard = np.load(cache / 'shard_00000.npy')
    np.save(cache / 'shard_00000.npy', np.random.default_rng(0).random(shard.shape, dtype=np.float32))
    assert_mistake(run(bin_dir, 'csip_banners', 'coco:x', cache, '--check'), 'csip_banners',
                   f"{cache / 'shard_00000.npy'}: its sha256 is not the one in")
    (cache / 'manifest.json').unlink(); (cache / 'manifest.json').symlink_to('/dev/zero')
    assert_mistake(run(bin_dir, 'csip_banners', 'coco:x', cache, '--check', timeout=60), 'csip_banners',
                   'manifest.json: not a regular file')
    assert_mistake(run(bin_dir, 'csip_train', '--out_dir', tmp_path / 'r', '--data', f'cache:{cache}', *TINY, timeout=60),
                   'csip_train', 'manifest.json: not a regular file')
    assert_mistake(run(bin_dir, 'csip_train', '--out_dir', tmp_path / 'r', '--config', '/dev/zero', timeout=60),
                   'csip_train', '/dev/zero')


@pytest.mark.parametrize('script,args', [
    ('csip_scenes', ['--out_dir', '{tmp}/s', '--n_train', '3000', '--workers', '1']),
])
def test_ctrl_c_is_one_line(bin_dir, tmp_path, script, args):
    "Finding 7: Ctrl-C (SIGINT) in a script exits 130 with one line, no traceback."
    fill = lambda s: s.format(tmp=tmp_path, fix=FIX)
    p = subprocess.Popen([sys.executable, str(bin_dir / script), *map(fill, args)], stderr=subprocess.PIPE, text=True,
                         env=ENV, cwd=bin_dir)
    while p.poll() is None and not any(tmp_path.iterdir()): time.sleep(0.05)   # started: its output folder exists
    time.sleep(0.5); p.send_signal(signal.SIGINT); err = p.communicate(timeout=120)[1]
    said = any(l.strip().endswith(f'{script}: interrupted (Ctrl-C)') for l in err.splitlines())   # (after a progress bar)
    assert (p.returncode, 'Traceback' in err, said) == (130, False, True), err[-2000:]
