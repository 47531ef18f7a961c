"""Benchmark: end-to-end pairs/s from a COCO-format annotation file to force banners on disk (csip.cache).

    python bench/banners.py --device cpu                       # this machine (synthetic COCO-like file)
    python bench/banners.py --device cuda --workers 15 --out banners.json   # a 16-core machine with a GPU
    python bench/banners.py --annotations instances_train2017.json --device cuda --workers 15

Without --annotations, a synthetic COCO-format instances file is written to a temporary folder: 640x480 images with
3-6 objects each, star-shaped polygons of 16-48 vertices whose radii are log-uniform in 15-200 pixels (COCO-like
sizes). Pairs are drawn with `csip.data.load_coco_pairs` (--pairs-per-image per image) and cached with
`csip.cache.compute_banners` (default banner config, masks at --max-side), exactly as the `csip_banners` script does.

Stages, timed separately:
  load     parse the JSON and draw the pairs (main process, once)
  decode   rasterise the masks on the banner grid (summed over the DataLoader workers; capacity = pairs / (decode / workers))
  banners  force_banners on the device (main process)
  write    shards to disk (background thread)
The limiting stage is the one with the lowest capacity (pairs/s it could sustain alone); `wait` (the main process
waiting for decoded masks) confirms it: a large wait means decoding limits, a small one that the device does.
The device is warmed up (ray tables, FFT plans) on a small separate cache first, so the timing is steady state.
Target on a 16-core machine with one GPU: 5,000 pairs/s end to end. `--out` also writes the figures as JSON."""
import argparse, json, os, platform, shutil, sys, tempfile, time
from datetime import date
from pathlib import Path
import numpy as np, torch
from pycocotools import mask as mask_utils
from csip.data import load_coco_pairs, PairSamplingConfig
from csip.cache import CacheConfig, compute_banners
from figures import Figures

TARGET = 5_000   # end-to-end pairs/s on a 16-core machine with one GPU

def synthetic_coco(path, n_images, seed=0, size=(640, 480)):
    "Write a COCO-like instances file of `n_images` images (annotations only; the cache never opens images)."
    rng, (W, H) = np.random.default_rng(seed), size
    images, anns = [], []
    for i in range(n_images):
        images.append(dict(id=i + 1, file_name=f'{i + 1:012d}.jpg', width=W, height=H))
        for k in range(rng.integers(3, 7)):
            r = float(np.exp(rng.uniform(np.log(15), np.log(200))))
            cx, cy = rng.uniform(0, W), rng.uniform(0, H)
            n = int(rng.integers(16, 49))
            t = np.sort(rng.uniform(0, 2 * np.pi, n)); rr = r * rng.uniform(0.5, 1.0, n)
            xs, ys = np.clip(cx + rr * np.cos(t), 0, W - 1), np.clip(cy + rr * np.sin(t), 0, H - 1)
            if xs.max() - xs.min() < 2 or ys.max() - ys.min() < 2: continue
            poly = [round(float(v), 2) for v in np.stack([xs, ys], 1).ravel()]
            area = float(mask_utils.area(mask_utils.frPyObjects([poly], H, W))[0])
            anns.append(dict(id=len(anns) + 1, image_id=i + 1, category_id=int(k % 3) + 1, segmentation=[poly], iscrowd=0,
                             area=area, bbox=[float(xs.min()), float(ys.min()), float(xs.max() - xs.min()), float(ys.max() - ys.min())]))
    Path(path).write_text(json.dumps(dict(images=images, annotations=anns, categories=[
        dict(id=c, name=f'shape{c}', supercategory='shape') for c in (1, 2, 3)])))
    return Path(path)

def machine(device):
    cpu = f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores'
    return f'{torch.cuda.get_device_name(device)} + {cpu}' if device.type == 'cuda' else cpu

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--annotations', default=None, help='COCO-format instances file (default: a synthetic one)')
    p.add_argument('--n-images', type=int, default=None, help='synthetic images (default 300 on CPU, 20000 on CUDA)')
    p.add_argument('--pairs-per-image', type=int, default=3, help='pairs drawn per image (0 = all)')
    p.add_argument('--device', default='cpu'); p.add_argument('--workers', type=int, default=None, help='default: cores - 1')
    p.add_argument('--batch-size', type=int, default=None); p.add_argument('--shard-size', type=int, default=4096)
    p.add_argument('--max-side', type=int, default=128); p.add_argument('--cache', default=None, help='cache folder (default: temporary, deleted)')
    p.add_argument('--out', default=None, help='also write the figures to this JSON file')
    args = p.parse_args()
    device = torch.device(args.device)
    workers = max((os.cpu_count() or 1) - 1, 0) if args.workers is None else args.workers
    tmp = Path(tempfile.mkdtemp(prefix='csip_bench_banners_'))
    try:
        ann = args.annotations or synthetic_coco(tmp/'instances.json', args.n_images or (20000 if device.type == 'cuda' else 300))
        config = CacheConfig(max_side=args.max_side or None)
        t0 = time.perf_counter()
        pairs = load_coco_pairs(ann, tmp, PairSamplingConfig(max_pairs_per_image=args.pairs_per_image or None), check_images=False)
        t_load = time.perf_counter() - t0
        # warm-up on a separate small cache: ray tables and FFT plans for the canvas sizes of the run
        compute_banners(pairs[:4096 if device.type == 'cuda' else 256], tmp/'warmup', config, device=device, batch_size=args.batch_size,
                        workers=0, shard_size=args.shard_size, progress=False)
        out = Path(args.cache) if args.cache else tmp/'cache'
        run = compute_banners(pairs, out, config, device=device, batch_size=args.batch_size, workers=workers,
                              shard_size=args.shard_size, progress=True)
        if run.pairs != len(pairs): raise SystemExit(f'{out} already held {len(pairs) - run.pairs} pairs: use an empty --cache')
        s = run.seconds
        cap = dict(decode=len(pairs) / (s['decode'] / max(workers, 1)), banners=len(pairs) / s['banners'],
                   write=len(pairs) / max(s['write'], 1e-9))
        limit = min(cap, key=cap.get)
        fig = Figures(args.out, machine=machine(device), device=str(device), workers=workers, max_side=args.max_side,
                      annotations=str(ann), seconds=dict(load=t_load, **s))
        end_to_end = len(pairs) / (t_load + s['wall'])
        fig.row(pairs=len(pairs), pairs_per_s=end_to_end, **{f'{k}_capacity': v for k, v in cap.items()}, limited_by=limit)
        fig.target('end-to-end pairs/s, file to banner cache', end_to_end, TARGET if device.type == 'cuda' else None,
                   note='5,000/s with 15 decoding workers and one GPU')
        print(f'machine: {machine(device)}; torch {torch.__version__}, {torch.get_num_threads()} threads; commit {fig.d["commit"]}; {date.today()}')
        print(f'command: python {" ".join(sys.argv)}')
        print(f'{len(pairs)} pairs from {ann}; load {t_load:.2f}s; compute+write wall {s["wall"]:.2f}s; '
              f'decode {s["decode"]:.2f}s over {workers} workers; main waited {s["wait"]:.2f}s for masks; '
              f'banners {s["banners"]:.2f}s; write {s["write"]:.2f}s')
        print('| machine | device | workers | max_side | pairs | end-to-end pairs/s | decode cap. | banners cap. | write cap. | limited by | date |')
        print('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
        print(f'| {machine(device)} | {device} | {workers} | {args.max_side} | {len(pairs)} | {end_to_end:,.0f} '
              f'| {cap["decode"]:,.0f} | {cap["banners"]:,.0f} | {cap["write"]:,.0f} | {limit} | {date.today()} |')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
