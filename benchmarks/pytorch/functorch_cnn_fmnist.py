# PyTorch reference for `projntk bench gradient --model builtin:cnn-fmnist --B 64 --grad functional`:
# the same architecture under functorch vmap(grad), eager. Needs Debian python3-torch: /usr/bin/python3 THIS THREADS
import torch, time, sys
from functorch import vmap, grad, make_functional
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
class CNN(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = torch.nn.Conv2d(1, 16, 3, padding=1); s.c2 = torch.nn.Conv2d(16, 32, 3, padding=1); s.fc = torch.nn.Linear(1568, 10)
    def forward(s, x):
        x = torch.max_pool2d(torch.relu(s.c1(x)), 2); x = torch.max_pool2d(torch.relu(s.c2(x)), 2)
        return s.fc(torch.flatten(x, 1))
m = CNN().eval()
fm, params = make_functional(m)
def f(p, x):
    return fm(p, x.unsqueeze(0)).sum()
g = vmap(grad(f), in_dims=(None, 0))
x = torch.randn(64, 1, 28, 28)
for _ in range(3): g(params, x)
n = 0; t = time.perf_counter()
while time.perf_counter() - t < 3:
    g(params, x); n += 1
print("pytorch functorch vmap(grad) cnn-fmnist B=64 threads=%s: %.0f examples/s" % (torch.get_num_threads(), 64 * n / (time.perf_counter() - t)))
