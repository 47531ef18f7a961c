"""Does mirroring training pairs (image, masks and banner together: `TrainConfig.hflip`) help or hurt C-SIP on the
default scenes? Trains the quickstart's C-SIP (tiny_cnn_gap, 64 px, its sampling, cache and optimiser) with and without
flips on a smaller draw of the default scenes, then evaluates each backbone with the quickstart's probes.

    OMP_NUM_THREADS=1 python bench/hflip.py --out /tmp/csip_hflip --n_train 800 --epochs 6

The training images are decoded every epoch (`PairImageDataset`), as a run from a banner cache does; the quickstart
itself keeps its unflipped `InMemoryPairs`.

Measured 2026-12-01 on the shared 2-core CPU (commit after ada805c; about 20 min per model on the loaded machine),
mean over probe seeds 0-2, one backbone seed; hflip 0.0 / 0.5: predicate top-1 0.686 / 0.690, top-5 0.999 / 0.999,
triplet accuracy 0.894 / 0.891, NDCG@10 banner 0.968 / 0.969, NDCG@10 predicate 0.593 / 0.599, UnRel mAP 0.972 / 0.971,
VQA 0.893 / 0.898."""
import argparse, time
from dataclasses import replace
from pathlib import Path
import numpy as np, torch
from csip.data import PairImageDataset
from csip.scenes import SceneConfig
from csip.train import train_csip
from csip.checkpoints import load_trained_model
from csip.quickstart import PRESETS, prepare_training_data, suite_config
from csip.evaluate.features import pair_banners, pair_features
from csip.evaluate.suite import load_datasets, evaluate_features

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument('--out', default='/tmp/csip_hflip'); p.add_argument('--n_train', type=int, default=800)
p.add_argument('--epochs', type=int, default=6); p.add_argument('--hflip', type=float, nargs='+', default=[0.0, 0.5])
p.add_argument('--seeds', type=int, nargs='+', default=[0])
a = p.parse_args()
base = PRESETS['cpu']
cfg = replace(base, scenes=replace(base.scenes, n_train=a.n_train), train=replace(base.train, epochs=a.epochs),
              workers=0)
run, t0 = Path(a.out), time.time()
paths, pairs, banners = prepare_training_data(cfg, run)
sets, _ = load_datasets(paths['spatialsense'], paths['unrel'], paths['gqa']); ub = pair_banners(sets['unrel'], cfg.cache)
print(f'{len(pairs)} training pairs, data ready in {time.time() - t0:.0f} s')
rows = {}
for seed in a.seeds:
    for h in a.hflip:
        tc = replace(cfg.train, hflip=h, seed=seed)
        ds = PairImageDataset(pairs, banners, size=tc.encoder.image_size, marker=cfg.marker, dtype=torch.uint8,
                              hflip=h, seed=seed)
        t = time.time(); out = run/f'csip_hflip{h}_seed{seed}'
        train_csip(tc, ds, out, resume=(out/'checkpoint.pt').exists(), workers=0, progress=False, tensorboard=False)
        backbone = load_trained_model(out/'checkpoint.pt').image_encoder.eval()
        res = evaluate_features(lambda name, ps: pair_features(backbone, ps, tc.encoder.image_size, cfg.marker),
                                sets, ub, suite_config(cfg))
        rows.setdefault(h, []).append(res['metrics'])
        means = {k: round(float(np.mean(v)), 3) for k, v in res['metrics'].items()}
        print(f'hflip {h} seed {seed}: {time.time() - t:.0f} s', means)
print('| metric | ' + ' | '.join(f'hflip {h}' for h in a.hflip) + ' |')
print('| --- |' + ' --- |' * len(a.hflip))
for k in rows[a.hflip[0]][0]:
    cells = []
    for h in a.hflip:
        v = [x for m in rows[h] for x in m[k]]
        cells.append(f'{np.mean(v):.3f} ± {np.std(v):.3f}')
    print(f'| {k} | ' + ' | '.join(cells) + ' |')
print(f'total {time.time() - t0:.0f} s')
