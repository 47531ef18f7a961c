"""Pairs/s delivered by the C-SIP training input: the crop store (`csip.cache.CropBatches`) against the PIL path
(`csip.data.PairImageDataset` + `make_loader`: decode, crop, resize at every step), measured side by side in one run.

    python bench/data.py --quick                        # small generated set, both paths in-process, the ratio line
    python bench/data.py --workers 2 --batches 20       # the PIL path with 2 loader processes, the crop path in-process
    python bench/data.py --workers 8 --device cuda --out data.json     # a GPU machine: flips and uint8 -> float there
    python bench/data.py --ann instances.json --images images/          # your own COCO-format set

Both paths read the same banner cache, built here from a generated COCO-format set of 640x480 JPEGs (polygons, every
pair in both orders), with its pair records and its crop store at `--size`. The crop path is what `csip_train` runs
when the caches have a crop store (`csip.cache.CropBatches.batches`): a whole batch gathered from the memory-mapped
uint8 crops in a background thread, sent to `--device` and flipped there (`--hflip`); the image encoder makes it
float and normalises it on the device. The PIL path is what it runs otherwise: `PairImageDataset` decodes, crops,
resizes and divides by 255 on the CPU (float32, the default) in `--workers` processes; the encoder normalises.
Rows of the table:
  crop store             gather + transfer + flips (on `--device`): the line's N
  crop store + RGB / 255 the same, then the uint8 -> float conversion on `--device` too (CPU work with --device cpu)
  host stage only        the gather alone: the CPU work per pair when a GPU does the flips and the conversion
  PIL, workers w         the PIL path; w = 0 (in-process, at most 10 timed batches: the slow one) is the line's M
Per core: pairs divided by the CPU seconds of this process (all its threads; torch uses one) for in-process runs,
by the wall seconds times w for the PIL path with w workers. The first batch (worker start-up, first reads) is not
timed. The last line is

    input: <N> pairs/s per core (crop store, flips on <device>), <M> pairs/s per core (PIL path), ratio <R>x

and `--out FILE` writes every figure as JSON.
"""
import os, sys, json, time, platform, tempfile, datetime, shlex, resource
from pathlib import Path
import numpy as np
import torch
from PIL import Image, ImageDraw
from fastcore.script import call_parse, store_true

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from figures import Figures
from csip.data import PairImageDataset, PairSamplingConfig, make_loader, image_to_float
from csip.cache import (CacheConfig, compute_banners, pair_source, write_crops, crop_batches, open_caches, crops_path)
from csip.train import GlobalBatchSampler


def make_coco_set(root: Path, n_images: int = 64, width: int = 640, height: int = 480, objects: int = 4, seed: int = 0):
    "Write `n_images` JPEGs with `objects` random polygons each and a COCO instances file; return (ann_file, image_dir)."
    rng = np.random.default_rng(seed)
    (root/'images').mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for i in range(1, n_images + 1):
        im = Image.fromarray(rng.integers(0, 255, (height // 8, width // 8, 3), dtype=np.uint8)).resize(
            (width, height), Image.BILINEAR)
        draw = ImageDraw.Draw(im)
        for k in range(objects):
            w, h = rng.integers(60, 260), rng.integers(60, 220)
            x, y = rng.integers(0, width - w), rng.integers(0, height - h)
            t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
            poly = np.stack([x + w / 2 + w / 2 * np.cos(t), y + h / 2 + h / 2 * np.sin(t)], 1).round(1)
            draw.polygon([tuple(p) for p in poly], fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
            anns.append(dict(id=i * 100 + k, image_id=i, category_id=1 + k % 3, segmentation=[poly.reshape(-1).tolist()],
                             area=float(np.pi * w * h / 4), bbox=[float(x), float(y), float(w), float(h)], iscrowd=0))
        name = f"{i:012d}.jpg"; im.save(root/'images'/name, quality=90)
        images.append(dict(id=i, width=width, height=height, file_name=name))
    cats = [dict(id=c, name=n, supercategory='x') for c, n in ((1, 'a'), (2, 'b'), (3, 'c'))]
    ann = root/'instances_bench.json'
    ann.write_text(json.dumps(dict(info={}, licenses=[], images=images, annotations=anns, categories=cats)))
    return ann, root/'images'


def build_cache(ann_file: Path, image_dir: Path, out: Path, size: int, workers: int):
    "A banner cache of every pair in both orders (banners on a 32-pixel grid: their values do not matter here) + crops."
    src = pair_source(ann_file, image_dir=image_dir, sampling=PairSamplingConfig(max_pairs_per_image=None, both_orders=True))
    from csip.cache import source_pairs
    pairs, _ = source_pairs(src)
    compute_banners(pairs, out, CacheConfig(max_side=32), source=src, progress=False)
    t = time.perf_counter(); write_crops(out, size, workers=workers, progress=False)
    return len(pairs), time.perf_counter() - t


def timed(batches, n_pairs: int, stage=lambda x: x):
    "Wall s, CPU s of this process and pairs, over batches after the first until `n_pairs` pairs went through `stage`."
    it = iter(batches); stage(next(it)[0])
    n, w0, c0 = 0, time.perf_counter(), time.process_time()
    for x, b, i in it:
        stage(x); n += len(x)
        if n >= n_pairs: break
    return time.perf_counter() - w0, time.process_time() - c0, n


def epochs(make):
    "Batches of `make(epoch)` for epoch 0, 1, 2, ... (so a small set can feed many batches)."
    e = 0
    while True:
        yield from make(e); e += 1


def crop_path(cache: Path, size: int, batch_size: int, batches: int, device: str, hflip: float, to_float: bool):
    "The crop store as training reads it: gather, transfer, flips on the device; `to_float`: then RGB / 255 there too."
    ds = crop_batches([cache], size, 'masks', hflip=hflip, seed=0)
    dev = torch.device(device)
    def stage(x):
        y = image_to_float(x) if to_float else x
        if dev.type == 'cuda': torch.cuda.synchronize()
        return y
    def make(e):
        s = GlobalBatchSampler(len(ds), batch_size, seed=0, with_epoch=hflip > 0); s.set_position(e)
        return ds.batches(s, dev)
    return timed(epochs(make), batches * batch_size, stage)


def host_stage(cache: Path, size: int, batch_size: int, batches: int, hflip: float):
    "The crop store's CPU work alone when a GPU does the rest: gathering the batches' rows (and their banners)."
    ds = crop_batches([cache], size, 'masks', hflip=hflip, seed=0)
    def make(e):
        s = GlobalBatchSampler(len(ds), batch_size, seed=0, with_epoch=hflip > 0); s.set_position(e)
        return (ds.gather(k) for k in s)
    return timed(epochs(make), batches * batch_size)


def pil_path(cache: Path, size: int, batch_size: int, batches: int, workers: int, hflip: float):
    "The PIL path: `PairImageDataset` over the cache's records and banners, `make_loader` with `workers` processes."
    ds = PairImageDataset(*open_caches([cache]), size=size, hflip=hflip)
    loader = make_loader(ds, batch_size=batch_size, workers=workers, shuffle=True, drop_last=True)
    return timed(epochs(lambda e: loader), batches * batch_size)


@call_parse
def main(workers: str = '0',          # comma-separated worker counts of the PIL path (0: in-process, always run)
         batch_size: int = 64,        # pairs per batch
         batches: int = 10,           # timed batches per measurement
         n_images: int = 64,          # images of the generated set
         size: int = 224,             # training image size (the crop store's)
         device: str = 'cpu',         # where the crop path's batches go: cpu or cuda
         hflip: float = 0.5,          # flip probability
         ann: str = None,             # a COCO-format instances file (default: generate one)
         images: str = None,          # its image folder
         quick: store_true = False,   # a small run: 32 images (384 pairs), batch 64, 5 batches, workers 0
         out: str = None):            # write the figures as JSON here
    torch.set_num_threads(1)
    if quick: n_images, batch_size, batches, workers = 32, 64, 5, '0'
    counts = sorted({0, *[int(v) for v in workers.split(',')]})
    fig = Figures(out, machine=f"{platform.node()} ({os.cpu_count()} cores, {platform.processor() or platform.machine()})",
                  size=size, batch_size=batch_size, hflip=hflip, device=device)
    res, add = fig.d, fig.row   # the JSON is rewritten after every figure: a run stopped half-way keeps what it measured
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ann_file, image_dir = (Path(ann), Path(images)) if ann else make_coco_set(tmp/'coco', n_images)
        n_pairs, crop_s = build_cache(ann_file, image_dir, tmp/'cache', size, max(counts))
        fig.set(n_pairs=n_pairs, crop_store_write_s=crop_s, load_avg_before=os.getloadavg()[0],
                crop_store_mib=crops_path(tmp/'cache', size).stat().st_size / 2**20)
        for f, name in ((False, 'crop store'), (True, 'crop store + RGB / 255 on the device')):
            wall, cpu, n = crop_path(tmp/'cache', size, batch_size, batches, device, hflip, f)
            add(path=name, workers=0, device=device, pairs=n, wall_s=wall, cpu_s=cpu, pairs_per_s=n / wall,
                pairs_per_s_per_core=n / cpu)
        wall, cpu, n = host_stage(tmp/'cache', size, batch_size, batches, hflip)
        add(path='crop store, host stage (gather)', workers=0, device='-', pairs=n, wall_s=wall, cpu_s=cpu,
            pairs_per_s=n / wall, pairs_per_s_per_core=n / cpu)
        for w in counts:   # in-process: at most 10 batches (it is the slow one)
            wall, cpu, n = pil_path(tmp/'cache', size, batch_size, batches if w else min(batches, 10), w, hflip)
            add(path='PIL', workers=w, device='cpu', pairs=n, wall_s=wall, cpu_s=cpu, pairs_per_s=n / wall,
                pairs_per_s_per_core=n / (cpu if w == 0 else wall * w))
    crop, crop_float, host, *pil = res['rows']
    fig.set(ratio=crop['pairs_per_s_per_core'] / pil[0]['pairs_per_s_per_core'],
            peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    fig.target('crop store pairs/s per core', crop['pairs_per_s_per_core'], 800)
    fig.target('ratio to the PIL path, per core, same run', res['ratio'], 4)
    ratio, load, n_pairs = res['ratio'], res['load_avg_before'], res['n_pairs']
    print(f"{res['machine']}, {res['date']}, load average {load:.1f}; {n_pairs} pairs, {size} px, batch {batch_size}")
    print("| path | workers | device | pairs/s | pairs/s per core |\n| --- | --- | --- | --- | --- |")
    print(f"| crop store | 0 (+1 reader thread) | {device} | {crop['pairs_per_s']:.0f} | {crop['pairs_per_s_per_core']:.0f} |")
    print(f"| crop store + RGB / 255 | 0 (+1 reader thread) | {device} | {crop_float['pairs_per_s']:.0f} | "
          f"{crop_float['pairs_per_s_per_core']:.0f} |")
    print(f"| crop store, host stage only (gather) | 0 | - | {host['pairs_per_s']:.0f} | {host['pairs_per_s_per_core']:.0f} |")
    for r in pil: print(f"| PIL | {r['workers']} | cpu | {r['pairs_per_s']:.0f} | {r['pairs_per_s_per_core']:.0f} |")
    print(f"input: {crop['pairs_per_s_per_core']:.0f} pairs/s per core (crop store, flips on {device}), "
          f"{pil[0]['pairs_per_s_per_core']:.0f} pairs/s per core (PIL path), ratio {ratio:.1f}x")
