"""Start-up of training on a banner cache of COCO train2017's size: seconds and peak resident memory per rank.

    python bench/cache_startup.py                         # generate a train2017-sized cache in a temp dir, 2 ranks
    python bench/cache_startup.py --cache /tmp/c2017 --keep --ranks 8     # keep (or reuse) the generated cache
    python bench/cache_startup.py --pairs 10000           # smaller

The generator writes what `csip_banners coco:instances_train2017.json` would, with the library's own writers, for
`--images` images (default 118,287, train2017's count) and one pair per image (the default sampling; `--pairs` more
or fewer): the pair records (`csip.cache.write_records`, two 24-vertex polygons of a 640x480 image per pair, COCO's
typical size) and banner shards (`write_shard`) of zeros (their values play no part in the start-up). Only the first
pairs' images exist (one small JPEG each): training checks the first image at start-up and opens the others when it
reads them. Each rank is a separate process started at the same time (as torchrun starts them), timing from before
`import csip.train` to the first training item: `cache_dataset` (manifest, pair ids, memory-maps of records and
banners) and `dataset[0]` (one image decoded and cropped). Peak RSS is the process's `ru_maxrss`, the imports of torch
and csip included; the resident memory (VmRSS) after the imports, after opening the cache and after the first item
shows what the cache itself costs.
"""
import json, os, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
from fastcore.script import call_parse, store_true

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RANK = r'''
import resource, sys, time, json
def rss(): return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) / 1024
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from csip.train import TrainConfig, cache_dataset
from csip.encoders import EncoderConfig
t1 = time.perf_counter(); rss_import = rss()
ds = cache_dataset([sys.argv[2]], TrainConfig(EncoderConfig(image_size=224), hflip=0.5))
t2 = time.perf_counter(); rss_open = rss(); x = ds[0]; t3 = time.perf_counter()
print(json.dumps(dict(pairs=len(ds), import_s=t1 - t0, open_s=t2 - t1, first_item_s=t3 - t2, total_s=t3 - t0,
                      rss_after_import_mib=rss_import, rss_after_open_mib=rss_open, rss_end_mib=rss(),
                      peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
'''


def star(rng, cx, cy, r, n=24):
    "A star-shaped polygon (COCO flat list) around (cx, cy) of radius about r."
    t = np.sort(rng.uniform(0, 2 * np.pi, n)); rr = r * rng.uniform(0.55, 1.0, n)
    return [round(float(v), 2) for v in np.stack([cx + rr * np.cos(t), cy + rr * np.sin(t)], 1).ravel()]


def generate(out: Path, n_images: int, n_pairs: int, with_images: int = 4, seed: int = 0):
    "Write a banner cache of `n_pairs` pairs over `n_images` 640x480 images as csip_banners would (zero banners)."
    from PIL import Image
    from csip.data import Pair, ObjectRef
    from csip.cache import CacheConfig, write_or_check_manifest, write_records, write_shard, shard_rows, shard_name
    rng, W, H = np.random.default_rng(seed), 640, 480
    images = out/'images'; images.mkdir(parents=True, exist_ok=True)
    pairs = []
    for k in range(n_pairs):
        i = k % n_images
        objs = []
        for j in range(2):
            r = rng.uniform(20, 120); cx, cy = rng.uniform(r, W - r), rng.uniform(r, H - r)
            p = star(rng, cx, cy, r); xs, ys = p[0::2], p[1::2]
            objs.append(ObjectRef(f'cat{rng.integers(80)}', (min(xs), min(ys), max(xs), max(ys)), [p]))
        pairs.append(Pair(f'coco:{i + 1}:{2 * k + 1}:{2 * k + 2}', 'coco', str(images/f'{i + 1:012d}.jpg'), W, H, *objs))
    for i in range(min(with_images, n_images)):
        Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8)).save(images/f'{i + 1:012d}.jpg', quality=90)
    cfg = CacheConfig()
    source = dict(format='coco', annotations=str(out/'instances_train2017.json (not written)'), image_dir=str(images),
                  sampling=dict(max_pairs_per_image=1), strict=False, skipped=[])
    m = write_or_check_manifest(out/'cache', [p.pair_id for p in pairs], cfg, 4096, source)
    t = time.perf_counter(); write_records(out/'cache', pairs, images, progress=True); t_rec = time.perf_counter() - t
    shape = tuple(m['banner_shape'])
    for s in range(m['n_shards']):
        write_shard(out/'cache'/shard_name(s), np.zeros((len(shard_rows(s, m['n_pairs'], m['shard_size'])), *shape), np.float32))
    return t_rec


def disk_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in Path(path).rglob('*') if f.is_file()) / 2**20


@call_parse
def main(images: int = 118_287,     # images of the generated set (train2017: 118,287)
         pairs: int = None,         # pairs (default: one per image, the default sampling)
         ranks: int = 2,            # processes started at once
         cache: str = None,         # where to write (or find) the generated set; default: a temp dir
         keep: store_true = False,  # keep the generated set
         out: str = None):          # write the figures as JSON here
    pairs = pairs or images
    base = Path(cache) if cache else Path(tempfile.mkdtemp(prefix='csip_startup_'))
    t_rec = None
    if not (base/'cache'/'records'/'index.json').exists():
        t = time.perf_counter(); t_rec = generate(base, images, pairs)
        print(f"generated {pairs} pairs over {images} images in {time.perf_counter() - t:.0f} s "
              f"(pair records {t_rec:.0f} s) under {base}")
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    procs = [subprocess.Popen([sys.executable, '-c', RANK, str(ROOT), str(base/'cache')], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(ranks)]
    res = []
    for p in procs:
        o, e = p.communicate()
        if p.returncode: sys.exit(f"a rank failed:\n{e[-3000:]}")
        res.append(json.loads(o.strip().splitlines()[-1]))
    rec = disk_mib(base/'cache'/'records'); ban = sum(f.stat().st_size for f in (base/'cache').glob('shard_*.npy')) / 2**20
    for k, r in enumerate(res):
        print(f"rank {k}: {r['pairs']} pairs, start-up {r['total_s']:.2f} s (import {r['import_s']:.2f}, open "
              f"{r['open_s']:.2f}, first item {r['first_item_s']:.2f}), peak RSS {r['peak_rss_mib']:.0f} MiB; RSS "
              f"{r['rss_after_import_mib']:.0f} MiB after the imports, {r['rss_after_open_mib']:.0f} after the cache "
              f"opened, {r['rss_end_mib']:.0f} after the first item")
    print(f"disk per 100k pairs: records {rec / pairs * 1e5:.1f} MiB, banners {ban / pairs * 1e5:.0f} MiB")
    if out: Path(out).write_text(json.dumps(dict(pairs=pairs, images=images, ranks=res, records_write_s=t_rec,
                                                 records_mib=rec, banners_mib=ban), indent=1))
    if not keep and not cache:
        import shutil; shutil.rmtree(base)
