#!/usr/bin/env python3
"""Writes RESULTS/gpu-<device>-<date>.json from what scripts/device-check.sh left in OUTDIR.

    python3 scripts/device-summary.py OUTDIR RESULTS

Reads OUTDIR/gpu.csv (nvidia-smi), torch.txt, steps.txt, projection-gpu.jsonl, gradient-gpu.jsonl, the
"transfer:" lines the native tests print into logs/native-tests.log, and the JMH files RESULTS/gpu-*.json
(scripts/bench.sh gpu). Runs on the GPU machine, which has python3 but no Java.
"""
import datetime
import glob
import json
import os
import re
import sys


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def jsonl(path):
    rows = []
    for line in read(path).splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except ValueError:
                rows.append({"unparsed": line})
    return rows


def transfer_lines(text):
    """Lines 'transfer: KEY=VALUE ...' (test_torch's CUDA section) as dicts of numbers where they parse."""
    out = []
    for line in text.splitlines():
        if not line.startswith("transfer:"):
            continue
        entry = {}
        for key, value in re.findall(r"(\w+)=(\S+)", line):
            try:
                entry[key] = float(value) if ("." in value or "e" in value) else int(value)
            except ValueError:
                entry[key] = value
        out.append(entry)
    return out


def device_slug(name):
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "unknown-gpu"


def main(argv):
    if len(argv) != 3:
        print("usage: device-summary.py OUTDIR RESULTS", file=sys.stderr)
        return 2
    outdir, results = argv[1], argv[2]
    first = read(os.path.join(outdir, "gpu.csv")).strip().splitlines()
    gpu = [field.strip() for field in first[0].split(",")] if first else []
    name = gpu[0] if gpu else "unknown GPU"
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    steps = []
    for line in read(os.path.join(outdir, "steps.txt")).splitlines():
        parts = line.split()
        if len(parts) == 3:
            steps.append({"step": parts[0], "status": parts[1], "seconds": int(parts[2])})
    jmh = {}
    for path in sorted(glob.glob(os.path.join(results, "gpu-*.json"))):
        base = os.path.basename(path)
        if re.search(r"-\d{4}-\d{2}-\d{2}\.json$", base):
            continue  # an earlier summary
        try:
            with open(path, encoding="utf-8") as f:
                jmh[base] = json.load(f)
        except (OSError, ValueError) as e:
            jmh[base] = {"error": str(e)}
    summary = {
        "device": name,
        "memory": gpu[1] if len(gpu) > 1 else None,
        "driver": gpu[2] if len(gpu) > 2 else None,
        "torch": read(os.path.join(outdir, "torch.txt")).strip() or None,
        "date": date,
        "command": "scripts/device-check.sh OUTDIR",
        "steps": steps,
        "transfer": transfer_lines(read(os.path.join(outdir, "logs", "native-tests.log"))),
        "projection": jsonl(os.path.join(outdir, "projection-gpu.jsonl")),
        "gradient": jsonl(os.path.join(outdir, "gradient-gpu.jsonl")),
        "jmh": jmh,
    }
    os.makedirs(results, exist_ok=True)
    target = os.path.join(results, "gpu-%s-%s.json" % (device_slug(name), date))
    with open(target, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
