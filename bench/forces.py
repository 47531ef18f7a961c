"""Benchmark: force banners per second, fast path against the reference, in one run.

    python bench/forces.py --device cpu            # this machine
    python bench/forces.py --device cuda           # a GPU machine

Pairs are random ellipses (sizes 8-25% of the canvas, anywhere, so some overlap) on square canvases of each size,
banners with the default configuration (17 force types, 180 directions). The fast path is timed on whole batches
(median of --repeats runs, after one warm-up that builds the cached ray tables). The reference is timed on
`--ref-dirs` directions of one force type at `--ref-lines` lines per pixel and scaled linearly to a full banner
(its cost is proportional to directions x force types), which the printout says."""
import argparse, platform, statistics, subprocess, sys, time
from datetime import date
import numpy as np, torch
from csip.forces import force_banners, force_histogram_reference, BannerConfig

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

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cpu'); p.add_argument('--sizes', type=int, nargs='+', default=[128, 256])
    p.add_argument('--n', type=int, default=None, help='pairs per size (default 256 on CPU, 8192 on CUDA)')
    p.add_argument('--batch-size', type=int, default=None); p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--ref-dirs', type=int, default=6); p.add_argument('--ref-lines', type=int, default=4)
    args = p.parse_args()
    device = torch.device(args.device)
    n = args.n or (8192 if device.type == 'cuda' else 256)
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
    print(f'machine: {machine(device)}; torch {torch.__version__}; commit {commit}; {date.today()}')
    print(f'command: python {" ".join(sys.argv)}')
    flop_rate, bandwidth = measured_rates(device)
    print(f'measured: {flop_rate / 1e9:,.0f} GFLOP/s float32 matmul, {bandwidth / 1e9:,.1f} GB/s copy')
    print('| size | pairs | fast path (banners/s) | reference (banners/s, extrapolated) | speed-up | MFLOP, MB per banner | floor (banners/s) | fast / floor |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- |')
    for size in args.sizes:
        A, B = ellipses(n, size)
        fast = time_fast(A, B, device, args.repeats, args.batch_size)
        ref = time_reference(A[0], B[0], args.ref_dirs, args.ref_lines)
        flops, bytes_ = floor_per_banner(size)
        floor = 1 / max(flops / flop_rate, bytes_ / bandwidth)
        print(f'| {size}x{size} | {n} | {fast:,.0f} | {ref:.4f} | {fast / ref:,.0f}x | {flops / 1e6:.0f}, {bytes_ / 1e6:.1f} '
              f'| {floor:,.0f} | {fast / floor:.0%} |', flush=True)
