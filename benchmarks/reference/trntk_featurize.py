# The reference pipeline for `projntk bench featurize --model builtin:cnn-fmnist --kernel trntk`, written the way
# TRAK users write it: per-class gradients from functorch vmap(jacrev), then a dense Gaussian projection in the style
# of TRAK's BasicProjector (written here from the paper's description: R ~ N(0, 1) of shape P x K, regenerated from a
# seeded generator in column blocks at every call so that R never has to be held whole, features = G·R / sqrt(K), projntk's default scaling).
# Prints one JSON line per timed part: per-class gradients alone, projection alone, and both end to end (rows/s),
# with the CPU model and family.
# Usage: python3 trntk_featurize.py [--rows N] [--batch B] [--K K] [--threads T] [--block-k KB]   (see run.sh)
import argparse, json, time
import torch
from functorch import jacrev, make_functional, vmap

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=1024)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--K", type=int, default=2048)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--block-k", type=int, default=512, help="columns of R generated at a time")
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)


class CNN(torch.nn.Module):  # builtin:cnn-fmnist
    def __init__(s):
        super().__init__()
        s.c1 = torch.nn.Conv2d(1, 16, 3, padding=1)
        s.c2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        s.fc = torch.nn.Linear(1568, 10)

    def forward(s, x):
        x = torch.max_pool2d(torch.relu(s.c1(x)), 2)
        x = torch.max_pool2d(torch.relu(s.c2(x)), 2)
        return s.fc(torch.flatten(x, 1))


fm, params = make_functional(CNN().eval())
P = sum(p.numel() for p in params)
C = 10


def logits(p, x):
    return fm(p, x.unsqueeze(0)).squeeze(0)


per_class = vmap(jacrev(logits), in_dims=(None, 0))  # tuple of [B, C, *shape]


def class_grads(x):
    g = per_class(params, x)
    return torch.cat([t.detach().reshape(x.shape[0] * C, -1) for t in g], dim=1)  # [B·C, P]


@torch.no_grad()
def project(g):
    out = torch.empty(g.shape[0], a.K)
    gen = torch.Generator()
    for k0 in range(0, a.K, a.block_k):
        k1 = min(a.K, k0 + a.block_k)
        gen.manual_seed(a.seed * 1000003 + k0)
        r = torch.randn(P, k1 - k0, generator=gen)
        out[:, k0:k1] = g @ r
    return out / a.K ** 0.5


def cpu():
    info = {}
    for line in open("/proc/cpuinfo"):
        k, _, v = line.partition(":")
        k, v = k.strip(), v.strip()
        if k in ("model name", "cpu family") and k not in info:
            info[k] = v
    return {"cpu_model": info.get("model name", "unknown"), "cpu_family": int(info.get("cpu family", -1))}


x = torch.rand(a.rows, 1, 28, 28)
batches = [x[i:i + a.batch] for i in range(0, a.rows, a.batch)]
class_grads(batches[0]); project(torch.randn(a.batch * C, P))  # warm-up


def timed(fn):
    t = time.perf_counter()
    for b in batches:
        fn(b)
    return time.perf_counter() - t


g_block = torch.randn(a.batch * C, P)
parts = {
    "gradients": timed(class_grads),
    "projection": timed(lambda b: project(g_block[: b.shape[0] * C])),
    "end_to_end": timed(lambda b: project(class_grads(b))),
}
for part, seconds in parts.items():
    print(json.dumps({"pipeline": "reference functorch vmap(jacrev) + gaussian", "part": part, "model": "cnn-fmnist",
                      "P": P, "outputs": C, "K": a.K, "rows": a.rows, "batch": a.batch, "threads": a.threads,
                      "torch": torch.__version__, "seconds": round(seconds, 4),
                      "rows_per_s": round(a.rows / seconds, 2), **cpu()}))
