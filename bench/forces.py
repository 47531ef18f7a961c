"""Benchmark: force banners per second, fast path against the reference, in one run.

    python bench/forces.py --device cpu            # this machine
    python bench/forces.py --device cuda --out forces.json   # a GPU machine; the figures also as JSON

Pairs are random ellipses (sizes 8-25% of the canvas, anywhere, so some overlap) on square canvases of each size,
banners with the default configuration (17 force types, 180 directions). The fast path is timed on whole batches
(median of --repeats runs, after one warm-up that builds the cached ray tables). The reference is timed on
`--ref-dirs` directions of one force type at `--ref-lines` lines per pixel and scaled linearly to a full banner
(its cost is proportional to directions x force types), which the printout says. On CUDA, `--check-pairs` pairs are
also computed on the CPU and compared (tolerance 1e-4 of each banner's maximum, as the `#| gpu` test of 00_forces).
Targets at 256 px: 150,000 banners/s on an H200, 100,000/s on an H100."""
import argparse, platform, statistics, sys, time
from datetime import date
import numpy as np, torch
from csip.forces import force_banners, force_histogram_reference, BannerConfig
from figures import Figures

TARGETS = {'H200': 150_000, 'H100': 100_000}   # exact banners/s at 256x256, by card

def ellipses(n, size, seed=0):
    "n pairs of random filled ellipses on (size, size) canvases."
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    def one():
        cy, cx = rng.uniform(0.15, 0.85, 2) * size; ry, rx = rng.uniform(0.08, 0.25, 2) * size
        return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
    return np.stack([one() for _ in range(n)]), np.stack([one() for _ in range(n)])

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()

def time_fast(A, B, device, repeats, batch_size):
    A, B = (torch.from_numpy(m).to(device) for m in (A, B))
    force_banners(A, B, device=device, batch_size=batch_size); sync(device)  # warm-up: tables, FFT plans
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); force_banners(A, B, device=device, batch_size=batch_size); sync(device)
        times.append(time.perf_counter() - t)
    return len(A) / statistics.median(times)

def time_reference(A, B, n_dirs_timed, lines):
    cfg = BannerConfig()
    t = time.perf_counter()
    force_histogram_reference(A, B, r=2.0, n_dirs=n_dirs_timed, lines_per_pixel=lines)
    per_banner = (time.perf_counter() - t) * (cfg.n_dirs / n_dirs_timed) * len(cfg.rs)
    return 1 / per_banner

def measured_rates(device):
    "The device's measured float32 matmul rate (FLOP/s) and copy bandwidth (bytes/s, read + write)."
    n = 4096 if device.type == 'cuda' else 1024
    a = torch.randn(n, n, device=device)
    big = torch.ones(2 ** 26 if device.type == 'cuda' else 2 ** 24, device=device); dst = torch.zeros_like(big)
    def best(f, k=5):
        f(); sync(device); ts = []
        for _ in range(k):
            t = time.perf_counter(); f(); sync(device); ts.append(time.perf_counter() - t)
        return min(ts)
    flops = 2 * n ** 3 / best(lambda: a @ a)
    bandwidth = 2 * big.numel() * 4 / best(lambda: dst.copy_(big))
    return flops, bandwidth

def floor_per_banner(size, cfg=BannerConfig()):
    """Work of the fast path for one banner whose pair fills a (size, size) canvas: FLOPs and bytes moved, counted
    from the algorithm (3 real FFTs of the correlation canvas, the gather of 4 grid values per ray segment, the
    far-field product), ignoring the near field and caches. A lower bound on time is max(FLOPs/rate, bytes/bandwidth)."""
    from scipy.fft import next_fast_len
    S = next_fast_len(2 * size - 1); px = S * S
    segments = cfg.n_dirs * 2 * size
    flops = 3 * 2.5 * px * np.log2(px) + 2 * 4 * segments * len(cfg.rs)
    bytes_ = 3 * 2 * 2 * px * 4 + 4 * segments * 4 * 2 + size * size * 2   # FFTs: 2 passes each, read + write
    return flops, bytes_

def machine(device):
    if device.type == 'cuda': return torch.cuda.get_device_name(device)
    return f'{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads'

def compare_with_cpu(A, B, device):
    "Largest |device - CPU| difference of the banners of pairs (A, B), relative to each banner's maximum."
    on_dev = force_banners(torch.from_numpy(A).to(device), torch.from_numpy(B).to(device), device=device).cpu()
    on_cpu = force_banners(torch.from_numpy(A), torch.from_numpy(B), device='cpu')
    scale = on_cpu.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]
    return float(((on_dev - on_cpu).abs() / scale).max())

def target_for(name, size):
    "The banners/s target of a card (by its name) at `size`, or None."
    return next((t for card, t in TARGETS.items() if card in name), None) if size == 256 else None

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cpu'); p.add_argument('--sizes', type=int, nargs='+', default=[128, 256])
    p.add_argument('--n', type=int, default=None, help='pairs per size (default 256 on CPU, 8192 on CUDA)')
    p.add_argument('--batch-size', type=int, default=None); p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--ref-dirs', type=int, default=6); p.add_argument('--ref-lines', type=int, default=4)
    p.add_argument('--check-pairs', type=int, default=16, help='pairs per size computed on the CPU too (0: none)')
    p.add_argument('--out', default=None, help='also write the figures to this JSON file')
    args = p.parse_args()
    device = torch.device(args.device)
    n = args.n or (8192 if device.type == 'cuda' else 256)
    fig = Figures(args.out, machine=machine(device), device=str(device))
    print(f'machine: {fig.d["machine"]}; torch {torch.__version__}; commit {fig.d["commit"]}; {date.today()}')
    print(f'command: python {" ".join(sys.argv)}')
    flop_rate, bandwidth = measured_rates(device)
    fig.set(matmul_flop_per_s=flop_rate, copy_bytes_per_s=bandwidth)
    print(f'measured: {flop_rate / 1e9:,.0f} GFLOP/s float32 matmul, {bandwidth / 1e9:,.1f} GB/s copy')
    print('| size | pairs | fast path (banners/s) | reference (banners/s, extrapolated) | speed-up | MFLOP, MB per banner | floor (banners/s) | fast / floor |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- |')
    for size in args.sizes:
        A, B = ellipses(n, size)
        fast = time_fast(A, B, device, args.repeats, args.batch_size)
        ref = time_reference(A[0], B[0], args.ref_dirs, args.ref_lines)
        flops, bytes_ = floor_per_banner(size)
        floor = 1 / max(flops / flop_rate, bytes_ / bandwidth)
        k = min(args.check_pairs, n)
        diff = compare_with_cpu(A[:k], B[:k], device) if k else None
        fig.row(size=size, pairs=n, banners_per_s=fast, reference_per_s=ref, speedup=fast / ref, mflop_per_banner=flops / 1e6,
                mb_per_banner=bytes_ / 1e6, floor_per_s=floor, fast_over_floor=fast / floor, checked_pairs=k,
                max_rel_diff_vs_cpu=diff, matches_cpu=None if diff is None else diff <= 1e-4)
        print(f'| {size}x{size} | {n} | {fast:,.0f} | {ref:.4f} | {fast / ref:,.0f}x | {flops / 1e6:.0f}, {bytes_ / 1e6:.1f} '
              f'| {floor:,.0f} | {fast / floor:.0%} |', flush=True)
        if diff is not None: print(f'{device} against CPU on {k} pairs of {size}x{size}: max |difference| {diff:.1e} of the banner maximum')
        if size == 256: fig.target('exact banners/s at 256x256', fast, target_for(fig.d['machine'], size),
                                   note='150,000/s on an H200, 100,000/s on an H100')
    bad = [r['size'] for r in fig.d['rows'] if r['matches_cpu'] is False]
    if bad: raise SystemExit(f'forces.py: error: {device} banners differ from the CPU at sizes {bad} (see max_rel_diff_vs_cpu)')
