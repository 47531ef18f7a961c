"""The distributed test harness of `nbs/04_train.ipynb` (not part of the library): one forward/backward of the first
global batch on several CPU processes (torchrun, gloo), against which the notebook checks one process with the whole
batch. Run by `distributed_loss_and_grads`; as a script, it is what each torchrun process executes."""
import os, subprocess, sys, tempfile
from pathlib import Path
import torch


def distributed_loss_and_grads(config, dataset, nproc:int=2, gather:bool=True) -> tuple:
    "Run one forward/backward of the first global batch on `nproc` CPU processes: `(loss, grads)` of rank 0."
    with tempfile.TemporaryDirectory() as d:
        items = [dataset[i] for i in range(config.batch_size)]        # plain tensors: no pickled classes
        xs, bs = torch.stack([it[0] for it in items]), torch.stack([torch.as_tensor(it[1]) for it in items])
        torch.save((config.asdict(), xs, bs, f'{d}/out.pt', gather), f'{d}/in.pt')
        env = {**os.environ, 'OMP_NUM_THREADS': '1'}
        r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={nproc}',
                            __file__, f'{d}/in.pt'], capture_output=True, text=True, env=env)
        if r.returncode: raise RuntimeError(f"torchrun failed:\n{r.stderr[-3000:]}")
        return torch.load(f'{d}/out.pt', weights_only=True)


def _check(path):
    "One process's part: its half of the global batch through DDP, rank 0 saves the loss and the gradients."
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP
    import csip.train as T
    from csip.encoders import build_model
    cfg, xs, bs, out, gather = torch.load(path, weights_only=True)
    cfg = T.TrainConfig.from_dict(cfg); ds = list(zip(xs, bs))
    info = T.setup_distributed('cpu')
    torch.manual_seed(cfg.seed); raw = build_model(cfg.encoder); model = DDP(raw)
    idx = next(iter(T.GlobalBatchSampler(len(ds), cfg.batch_size, info.rank, info.world_size, shuffle=False)))
    x = torch.stack([ds[i][0] for i in idx]); b = torch.stack([ds[i][1] for i in idx])
    if not gather: T.gather_with_grad = lambda z: z
    loss, _ = T.forward_loss(model, x, b, cfg, info.device)
    loss.backward()
    if info.rank == 0: torch.save((loss.detach(), {n: p.grad for n, p in raw.named_parameters()}), out)
    del model, loss   # the DDP reducer goes before its process group: left to exit, it aborted a rank 1 run in 4
    dist.barrier()
    dist.destroy_process_group()


if __name__ == '__main__':
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # this checkout's csip, as the notebook's
    _check(sys.argv[1])
