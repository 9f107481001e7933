# PyTorch reference for `projntk bench gradient --model builtin:resnet18-cifar --B 8 --grad functional`:
# the CIFAR ResNet-18 under functorch vmap(grad), eager, BatchNorm in eval. Needs Debian python3-torch: /usr/bin/python3 THIS THREADS
import torch, time, sys
import torch.nn as nn
from functorch import vmap, grad, make_functional_with_buffers
torch.set_num_threads(int(sys.argv[1]))
class Block(nn.Module):
    def __init__(s, cin, cout, stride):
        super().__init__()
        s.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); s.bn1 = nn.BatchNorm2d(cout)
        s.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); s.bn2 = nn.BatchNorm2d(cout)
        s.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            s.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
    def forward(s, x):
        out = torch.relu(s.bn1(s.conv1(x))); out = s.bn2(s.conv2(out))
        return torch.relu(out + s.shortcut(x))
class ResNet18(nn.Module):
    def __init__(s):
        super().__init__()
        s.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False); s.bn1 = nn.BatchNorm2d(64)
        layers = []; cin = 64
        for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers.append(nn.Sequential(Block(cin, cout, stride), Block(cout, cout, 1))); cin = cout
        s.layer1, s.layer2, s.layer3, s.layer4 = layers
        s.linear = nn.Linear(512, 10)
    def forward(s, x):
        out = torch.relu(s.bn1(s.conv1(x)))
        out = s.layer4(s.layer3(s.layer2(s.layer1(out))))
        out = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(out, 1), 1)
        return s.linear(out)
m = ResNet18().eval()
print("P =", sum(p.numel() for p in m.parameters()))
fm, params, buffers = make_functional_with_buffers(m)
def f(p, b, x): return fm(p, b, x.unsqueeze(0)).sum()
g = vmap(grad(f), in_dims=(None, None, 0))
x = torch.randn(8, 3, 32, 32)
g(params, buffers, x)
n = 0; t = time.perf_counter()
while time.perf_counter() - t < 5:
    g(params, buffers, x); n += 1
print("pytorch functorch vmap(grad) resnet18-cifar B=8 threads=%d: %.2f examples/s" % (torch.get_num_threads(), 8 * n / (time.perf_counter() - t)))
