"""Pairs/s delivered by the C-SIP training loader (`csip.data.PairImageDataset` + `make_loader`).

    python bench/data.py --workers 2                    # generates a COCO-format set of 640x480 JPEGs in a temp dir
    python bench/data.py --workers 0,1,2 --batches 20
    python bench/data.py --workers 8 --ann data/generated/scenes/annotations/instances_train.json \
                         --images data/generated/scenes/images/train

Prints one markdown table row per worker count: machine, command, date, workers, batch size, dtype, pairs/s, start-up s,
and the 1-minute load average before the run (other processes on the machine make the numbers lower).
The first batch (worker start-up, first decodes) is timed separately and not counted in pairs/s.
"""
import os, sys, json, time, platform, tempfile, datetime, shlex
from pathlib import Path
import numpy as np
import torch
from PIL import Image, ImageDraw
from fastcore.script import call_parse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from csip.data import load_coco_pairs, PairImageDataset, PairSamplingConfig, make_loader


def make_coco_set(root: Path, n_images: int = 64, width: int = 640, height: int = 480, objects: int = 4, seed: int = 0):
    "Write `n_images` JPEGs with `objects` random polygons each and a COCO instances file; return (ann_file, image_dir)."
    rng = np.random.default_rng(seed)
    (root/'images').mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for i in range(1, n_images + 1):
        im = Image.fromarray(rng.integers(0, 255, (height // 8, width // 8, 3), dtype=np.uint8)).resize((width, height), Image.BILINEAR)
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
    cats = [dict(id=1, name='a', supercategory='x'), dict(id=2, name='b', supercategory='x'), dict(id=3, name='c', supercategory='x')]
    ann = root/'instances_bench.json'
    ann.write_text(json.dumps(dict(info={}, licenses=[], images=images, annotations=anns, categories=cats)))
    return ann, root/'images'


def measure(ds, workers: int, batch_size: int, batches: int):
    "Seconds for the first batch, and pairs/s over the next `batches` batches (cycling epochs as needed)."
    loader = make_loader(ds, batch_size=batch_size, workers=workers, shuffle=True, drop_last=True)
    t0 = time.perf_counter(); it = iter(loader); next(it); t_first = time.perf_counter() - t0
    n, t0 = 0, time.perf_counter()
    while n < batches * batch_size:
        try: x, b, i = next(it)
        except StopIteration: it = iter(loader); continue
        n += x.shape[0]
    return t_first, n / (time.perf_counter() - t0)


@call_parse
def main(workers: str = '0,1,2',      # comma-separated worker counts
         batch_size: int = 64,        # pairs per batch
         batches: int = 10,           # timed batches per worker count
         n_images: int = 64,          # images of the generated set
         ann: str = None,             # a COCO-format instances file (default: generate one)
         images: str = None,          # its image folder
         marker: str = 'masks',       # PairImageDataset marker
         dtype: str = 'float32',      # image dtype: float32 (default of the dataset) or uint8
         threads: int = 1,            # torch threads per process (workers use 1)
         out: str = None):            # also write the rows to this JSON file
    torch.set_num_threads(threads)
    tmp = None
    if ann is None:
        tmp = tempfile.TemporaryDirectory(); ann_file, image_dir = make_coco_set(Path(tmp.name), n_images)
    else: ann_file, image_dir = Path(ann), Path(images)
    pairs = load_coco_pairs(ann_file, image_dir, PairSamplingConfig(max_pairs_per_image=None, both_orders=True))
    banners = np.random.default_rng(0).random((len(pairs), 17, 180), dtype=np.float32)
    ds = PairImageDataset(pairs, banners, marker=marker, dtype=getattr(torch, dtype))
    machine = f"{platform.node()} ({os.cpu_count()} cores, {platform.processor() or platform.machine()})"
    cmd = 'python ' + ' '.join(shlex.quote(a) for a in sys.argv)
    date = datetime.date.today().isoformat()
    print(f"{len(pairs)} pairs from {ann_file}\n")
    print("| machine | command | date | workers | batch | dtype | pairs/s | first batch s | load avg |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    for w in [int(v) for v in workers.split(',')]:
        load = os.getloadavg()[0]
        t_first, rate = measure(ds, w, batch_size, batches)
        print(f"| {machine} | `{cmd}` | {date} | {w} | {batch_size} | {dtype} | {rate:.0f} | {t_first:.2f} | {load:.1f} |", flush=True)
        rows.append(dict(workers=w, batch_size=batch_size, dtype=dtype, pairs_per_s=rate, first_batch_s=t_first, load_avg=load))
        if out: Path(out).write_text(json.dumps(dict(machine=machine, command=cmd, date=date, rows=rows), indent=1))
    if tmp is not None: tmp.cleanup()
