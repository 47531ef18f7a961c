"""Training images/s of C-SIP against the bare forward+backward of the same image backbone, measured in the same run.

    python bench/train.py                                   # H100: resnet18 and vit_b16 at 224 px, batch 256
    python bench/train.py --models resnet18 --compile --out train.json   # what bench/gpu.sh runs
    python bench/train.py --device cpu --steps 3            # smoke check (CPU: batch 8, 64 px unless given)

For each image encoder it times, after `--warmup` untimed steps, `--steps` steps of:
  bare      the standard 3-channel backbone with its 1000-class head, cross-entropy on random labels, synthetic tensors
            already on the device (the usual "training images/s" of that backbone);
  towers    the C-SIP model (5-channel image tower + fbanner_cnn + heads + symmetric InfoNCE), tensors on the device:
            what C-SIP costs beyond the backbone, without any data loading;
  banner    the banner tower alone (forward + backward), to attribute the difference;
  loop-dev  the real loop `csip.train.train_csip` on a preprocessed uint8 cache held on the device (`DeviceBatches`):
            data loading included (one index_select per batch), metrics, lr schedule, logit-scale clamp;
  loop-cpu  the real loop fed by a DataLoader with `--workers` processes that build each crop on the CPU
            (`SyntheticPairs`: masks upsampled, coloured), pinned memory and non-blocking copies.
Every variant uses the same precision (bf16 autocast on CUDA), channels_last, fused AdamW on CUDA and, with --compile,
torch.compile. Prints the machine, the command and the date, then one markdown row per (model, variant): images/s,
ratio to bare, peak GPU memory, batch size; `--out` also writes them as JSON, row by row. The variants run in the
order bare, loop-cpu, loop-dev, towers, banner, so that a run cut short has the figure with a target first.
Target: the full C-SIP step, input included (the loop variants), at 0.90 or more of the bare backbone's images/s.
"""
import argparse, datetime, math, os, platform, shlex, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from csip.encoders import EncoderConfig, build_model
from csip.train import (TrainConfig, SyntheticPairs, DeviceBatches, train_csip, read_metrics, forward_loss,
                        build_optimizer, autocast_context)
from figures import Figures

TARGET_RATIO = 0.90   # the C-SIP step, input included, against the bare backbone
TIMM_NAMES = {'vit_b16': 'vit_base_patch16_224', 'vit_s16': 'vit_small_patch16_224', 'vit_tiny': 'vit_tiny_patch16_224'}


def machine(device):
    if device.type == 'cuda': return torch.cuda.get_device_name(device)
    return f'{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores'


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)


def timed(step, device, warmup, steps):
    "Seconds per step of `step()` after `warmup` untimed calls."
    for _ in range(warmup): step()
    sync(device); t = time.perf_counter()
    for _ in range(steps): step()
    sync(device); return (time.perf_counter() - t) / steps


def reset_memory(device):
    if device.type == 'cuda': torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device):
    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == 'cuda' else float('nan')


def bare_backbone(name, size):
    import torchvision, timm
    if name.startswith('resnet'): return getattr(torchvision.models, name)(weights=None, num_classes=1000)
    if name in TIMM_NAMES: return timm.create_model(TIMM_NAMES[name], num_classes=1000, img_size=size)
    raise ValueError(f'no bare twin for {name}')


def bench_bare(name, a, device):
    m = bare_backbone(name, a.image_size).to(device)
    cuda = device.type == 'cuda'
    if cuda: m = m.to(memory_format=torch.channels_last)
    fwd = torch.compile(m) if a.compile else m
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4, fused=cuda)
    x = torch.randn(a.batch_size, 3, a.image_size, a.image_size, device=device)
    if cuda: x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (a.batch_size,), device=device)
    def step():
        with autocast_context(device, 'bf16'): loss = F.cross_entropy(fwd(x), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    return timed(step, device, a.warmup, a.steps)


def bench_towers(cfg, a, device, banner_only=False):
    m = build_model(cfg.encoder).to(device)
    cuda = device.type == 'cuda'
    if cuda: m = m.to(memory_format=torch.channels_last)
    fwd = torch.compile(m) if a.compile else m
    opt = build_optimizer(m, cfg, device)
    x = torch.randint(0, 256, (a.batch_size, 5, a.image_size, a.image_size), dtype=torch.uint8, device=device)
    if cuda: x = x.contiguous(memory_format=torch.channels_last)
    b = torch.rand(a.batch_size, 17, 180, device=device)
    def step():
        if banner_only:
            with autocast_context(device, 'bf16'): loss = m.encode_banner(b).float().square().sum()
        else: loss, _ = forward_loss(fwd, x, b, cfg, device)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    return timed(step, device, a.warmup, a.steps)


def bench_loop(cfg, ds, a, device, workers):
    "Images/s of `csip.train.train_csip` over the timed steps (the first `warmup` steps are one untimed log interval)."
    total = a.warmup + a.steps
    spe = len(ds) // cfg.batch_size
    cfg = TrainConfig(cfg.encoder, batch_size=cfg.batch_size, max_steps=total, epochs=math.ceil(total / spe) + 1,
                      log_every=math.gcd(a.warmup, a.steps) if a.warmup else a.steps, checkpoint_every=10**9,
                      compile=a.compile, warmup_steps=1)
    with tempfile.TemporaryDirectory() as d:
        train_csip(cfg, ds, d, device=device, workers=workers, progress=False, tensorboard=False)
        m = read_metrics(d)
    keep = m['step'] > a.warmup
    steps = np.diff(m['step'], prepend=0)[keep]                                    # steps in each log interval
    seconds = (steps * cfg.batch_size / m['images_per_s'][keep]).sum()
    return seconds / steps.sum()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--models', default='resnet18,vit_b16')
    p.add_argument('--batch_size', type=int, default=None, help='default 256 on CUDA, 8 on CPU')
    p.add_argument('--image_size', type=int, default=None, help='default 224 on CUDA, 64 on CPU')
    p.add_argument('--steps', type=int, default=50)
    p.add_argument('--warmup', type=int, default=None, help='default 10 on CUDA, 1 on CPU')
    p.add_argument('--n_cache', type=int, default=None, help='pairs in the synthetic set (default 8 batches)')
    p.add_argument('--workers', type=int, default=min(8, os.cpu_count() or 1))
    p.add_argument('--compile', action='store_true')
    p.add_argument('--skip', default='', help='comma-separated variants to skip, e.g. loop-cpu')
    p.add_argument('--out', default=None, help='also write the figures to this JSON file')
    a = p.parse_args()
    device = torch.device(a.device); cuda = device.type == 'cuda'
    a.batch_size = a.batch_size or (256 if cuda else 8)
    a.image_size = a.image_size or (224 if cuda else 64)
    a.warmup = a.warmup if a.warmup is not None else (10 if cuda else 1)
    a.n_cache = a.n_cache or 8 * a.batch_size
    skip = set(filter(None, a.skip.split(',')))
    if cuda: torch.backends.cudnn.benchmark = True; torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
    fig = Figures(a.out, machine=machine(device), device=str(device), batch_size=a.batch_size, image_size=a.image_size,
                  warmup=a.warmup, steps=a.steps, bf16=cuda, channels_last=cuda, compile=a.compile, workers=a.workers)
    print(f'machine: {machine(device)}; torch {torch.__version__}; commit {fig.d["commit"]}; {datetime.date.today()}')
    print(f'command: python {" ".join(shlex.quote(s) for s in sys.argv)}')
    t = time.perf_counter()
    ds = SyntheticPairs(a.n_cache, image_size=a.image_size, in_chans=5, grid=64, seed=0, device=device)
    dev_ds = DeviceBatches.from_dataset(ds, device)
    print(f'data: {a.n_cache} synthetic pairs, {a.image_size} px, 5 channels, banners 17x180 ({time.perf_counter() - t:.1f} s to make); '
          f'batch {a.batch_size}, {a.warmup} warm-up + {a.steps} timed steps, bf16={cuda}, channels_last={cuda}, compile={a.compile}')
    print('| model | variant | images/s | / bare | ms/step | peak GPU GiB | batch |')
    print('| --- | --- | --- | --- | --- | --- | --- |')
    for name in a.models.split(','):
        cfg = TrainConfig(EncoderConfig(name, 'fbanner_cnn', image_size=a.image_size), batch_size=a.batch_size)
        variants = [('bare', lambda: bench_bare(name, a, device)),
                    ('loop-cpu', lambda: bench_loop(cfg, ds, a, device, a.workers)),
                    ('loop-dev', lambda: bench_loop(cfg, dev_ds, a, device, 0)),
                    ('towers', lambda: bench_towers(cfg, a, device)),
                    ('banner', lambda: bench_towers(cfg, a, device, banner_only=True))]
        bare = None
        for v, fn in variants:
            if v in skip: continue
            reset_memory(device)
            s = fn()
            bare = s if v == 'bare' else bare
            ratio = f'{bare / s:.2f}' if bare else '-'
            print(f'| {name} | {v} | {a.batch_size / s:,.0f} | {ratio} | {1e3 * s:.1f} | {peak_gib(device):.1f} | {a.batch_size} |', flush=True)
            fig.row(model=name, variant=v, images_per_s=a.batch_size / s, ratio_to_bare=bare / s if bare else None,
                    ms_per_step=1e3 * s, peak_gpu_gib=peak_gib(device) if cuda else None, batch_size=a.batch_size)
            if v.startswith('loop') and bare:
                fig.target(f'{name} C-SIP step ({v}) / bare', bare / s, TARGET_RATIO if cuda else None,
                           note='the C-SIP step, input included, at 0.90 of the bare backbone or more')


if __name__ == '__main__':
    main()
