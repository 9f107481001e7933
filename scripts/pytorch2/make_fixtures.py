"""Models saved by today's PyTorch, with inputs and reference per-example gradients, for projntk's compatibility check.

    python3 scripts/pytorch2/make_fixtures.py OUT_DIR

Writes, for each model NAME in OUT_DIR:
    NAME.pt                   TorchScript (scripted or traced, as the model's entry says)
    NAME.x0.npy, NAME.x1.npy  the inputs, in forward's order (float32, or bool for masks)
    NAME.y.npy                int64 labels (unused by the gradients, needed by projntk's npy: datasets)
    NAME.pntk.npy             [B, P] float32: d(sum of logits)/d(params) per example, from torch.func (vmap(grad))
    NAME.trntk.npy            [C, B, P] float32: d(logit c)/d(params) per example, from torch.func (vmap(jacrev))
and fixtures.json, which lists every model with its inputs, parameter selection, output key and, for a model whose
ops an older libtorch may lack, the op it needs. Gradients are computed from the eager module (the one that was
saved), one example at a time inside vmap with a batch dimension of 1, over the selected parameters in
named_parameters() order, each flattened row-major: the layout of projntk's `featurize --proj none`.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, jacrev, vmap

torch.manual_seed(0)
torch.set_default_dtype(torch.float32)
B = 4


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 5 * 5, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(h.flatten(1))


class DictCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3)
        self.fc = nn.Linear(3 * 10 * 10, 5)

    def forward(self, x):
        h = torch.tanh(self.conv(x)).flatten(1)
        return {"features": h, "logits": self.fc(h)}


class Encoder(nn.Module):
    """nn.TransformerEncoder, batch_first, with a key padding mask (True = padding); [CLS]-style pooling of token 0."""

    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(6, 16)
        layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=24, dropout=0.0, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(16, 3)

    def forward(self, x, pad):
        h = self.enc(self.inp(x), src_key_padding_mask=pad)
        return self.head(h[:, 0])


class CausalMha(nn.Module):
    def __init__(self):
        super().__init__()
        self.mha = nn.MultiheadAttention(12, 3, batch_first=True)
        self.head = nn.Linear(12, 4)
        self.register_buffer("causal", torch.triu(torch.ones(7, 7, dtype=torch.bool), diagonal=1))

    def forward(self, x):
        h, _ = self.mha(x, x, x, attn_mask=self.causal, need_weights=False)
        return self.head(h.mean(1))


class Sdpa(nn.Module):
    """An explicit F.scaled_dot_product_attention call, in one of three forms."""

    def __init__(self, form: str):
        super().__init__()
        self.form = form
        self.q = nn.Linear(8, 8)
        self.k = nn.Linear(8, 8 if form != "boolmask_gqa" else 4)
        self.v = nn.Linear(8, 8 if form != "boolmask_gqa" else 4)
        self.head = nn.Linear(8, 3)
        self.register_buffer("bias", torch.randn(5, 5) * 0.5)

    def forward(self, x, keep):
        b, t = x.shape[0], x.shape[1]
        q = self.q(x).view(b, t, 4, 2).transpose(1, 2)
        kv_heads = 4 if self.form != "boolmask_gqa" else 2
        k = self.k(x).view(b, t, kv_heads, 2).transpose(1, 2)
        v = self.v(x).view(b, t, kv_heads, 2).transpose(1, 2)
        if self.form == "causal":
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        elif self.form == "floatmask_scale":
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=self.bias, scale=0.3)
        else:
            # keep: [B, T] bool, True = take part; broadcast over heads and queries.
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None, None, :], enable_gqa=True)
        return self.head(o.transpose(1, 2).reshape(b, t, 8).mean(1))


class RmsNormNet(nn.Module):
    """Needs aten::rms_norm (PyTorch 2.4+): a model whose op an older libtorch lacks and projntk does not provide."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 3)
        self.weight = nn.Parameter(torch.ones(6))

    def forward(self, x):
        return self.fc(F.rms_norm(x, [6], self.weight))


def resnet18():
    import torchvision
    return torchvision.models.resnet18(num_classes=10)


def padded_tokens(rows, length, width, lengths):
    x = torch.randn(rows, length, width)
    pad = torch.arange(length)[None, :] >= torch.tensor(lengths)[:, None]
    return x, pad


def entries():
    x_pad, pad = padded_tokens(B, 5, 6, [5, 3, 2, 4])
    keep = ~padded_tokens(B, 5, 8, [5, 4, 2, 3])[1]
    x8 = torch.randn(B, 5, 8)
    return [
        # name, module, how it is saved, inputs, --params selection ("" = all), output key, op an old runtime may lack
        ("cnn_scripted", SmallCnn(), "script", [torch.randn(B, 1, 12, 12)], "", None, None),
        # The selection keeps the fixture small while the gradient of conv1 still runs back through the whole net.
        ("resnet18_scripted", resnet18(), "script", [torch.randn(B, 3, 32, 32)], "conv1.,bn1.,layer4.1.bn2.,fc.", None, None),
        ("transformer_traced", Encoder(), "trace", [x_pad, pad], "", None, "aten::scaled_dot_product_attention"),
        ("mha_causal", CausalMha(), "script", [torch.randn(B, 7, 12)], "", None, "aten::scaled_dot_product_attention"),
        ("sdpa_causal", Sdpa("causal"), "script", [x8, keep], "", None, "aten::scaled_dot_product_attention"),
        ("sdpa_floatmask_scale", Sdpa("floatmask_scale"), "script", [x8, keep], "", None, "aten::scaled_dot_product_attention"),
        ("sdpa_boolmask_gqa", Sdpa("boolmask_gqa"), "script", [x8, keep], "", None, "aten::scaled_dot_product_attention"),
        ("dict_output", DictCnn(), "script", [torch.randn(B, 1, 12, 12)], "", "logits", None),
        ("rms_norm", RmsNormNet(), "script", [torch.randn(B, 6)], "", None, "aten::rms_norm"),
    ]


def selected(model, prefixes):
    names = [n for n, _ in model.named_parameters()]
    if not prefixes:
        return names
    wanted = [p.strip() for p in prefixes.split(",") if p.strip()]
    return [n for n in names if any(n == w or n.startswith(w) for w in wanted)]


def reference_gradients(model, inputs, names, key):
    params = dict(model.named_parameters())
    others = {n: p.detach() for n, p in params.items() if n not in names}
    buffers = dict(model.named_buffers())
    chosen = {n: params[n].detach() for n in names}

    def logits(p, *example):
        out = functional_call(model, ({**p, **others}, buffers), tuple(e.unsqueeze(0) for e in example))
        if key is not None:
            out = out[key]
        return out[0]

    pntk = vmap(grad(lambda p, *e: logits(p, *e).sum()), in_dims=(None,) + (0,) * len(inputs))(chosen, *inputs)
    pntk = torch.cat([pntk[n].reshape(pntk[n].shape[0], -1) for n in names], dim=1)
    jac = vmap(jacrev(logits), in_dims=(None,) + (0,) * len(inputs))(chosen, *inputs)  # name -> [B, C, *shape]
    per_class = torch.cat([jac[n].reshape(jac[n].shape[0], jac[n].shape[1], -1) for n in names], dim=2)
    return pntk, per_class.transpose(0, 1).contiguous()  # [B, P], [C, B, P]


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    listing = []
    for name, model, how, inputs, prefixes, key, op in entries():
        model.eval()
        if how == "script":
            saved = torch.jit.script(model)
        else:
            saved = torch.jit.trace(model, tuple(i[:2] for i in inputs), strict=False, check_trace=False)
        saved.save(os.path.join(out_dir, name + ".pt"))
        names = selected(model, prefixes)
        pntk, per_class = reference_gradients(model, inputs, names, key)
        with torch.no_grad():
            out = model(*inputs)
            out = out[key] if key is not None else out
            # The saved module must compute what the eager one does, or the fixture proves nothing.
            again = saved(*inputs)
            again = again[key] if key is not None else again
            assert torch.allclose(out, again, rtol=1e-5, atol=1e-6), name
        files = []
        for i, t in enumerate(inputs):
            path = f"{name}.x{i}.npy"
            np.save(os.path.join(out_dir, path), t.numpy())
            files.append(path)
        np.save(os.path.join(out_dir, name + ".y.npy"), out.argmax(1).numpy().astype(np.int64))
        np.save(os.path.join(out_dir, name + ".pntk.npy"), pntk.numpy().astype(np.float32))
        np.save(os.path.join(out_dir, name + ".trntk.npy"), per_class.numpy().astype(np.float32))
        listing.append({"name": name, "model": name + ".pt", "saved_by": how, "inputs": files,
                        "labels": name + ".y.npy", "params": prefixes, "output_key": key,
                        "classes": int(out.shape[1]), "rows": B, "parameters": int(pntk.shape[1]),
                        "needs_op": op})
    with open(os.path.join(out_dir, "fixtures.json"), "w") as f:
        json.dump({"torch": torch.__version__, "models": listing}, f, indent=1)
    print(f"pytorch2 fixtures: {len(listing)} models saved by torch {torch.__version__} in {out_dir}")


if __name__ == "__main__":
    main()
