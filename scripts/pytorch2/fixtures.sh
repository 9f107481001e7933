#!/usr/bin/env bash
# Writes the PyTorch 2.x model fixtures (scripts/pytorch2/make_fixtures.py) into OUT_DIR, a folder inside this
# checkout. Uses python3 when it imports torch >= 2 (Debian 13, the GPU machine); otherwise runs it in the Debian 13
# chroot (scripts/debian13-chroot.sh, root), whose python3-torch is 2.6.
#   scripts/pytorch2/fixtures.sh OUT_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:?usage: $0 OUT_DIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
case "$out/" in "$root"/*) ;; *) echo "fixtures: $out is not inside $root (the chroot sees only the checkout)" >&2; exit 2 ;; esac
rm -f "$out"/*.npy "$out"/*.pt "$out"/fixtures.json
if python3 -c 'import sys, torch, torchvision, numpy; sys.exit(int(torch.__version__.split(".")[0]) < 2)' 2>/dev/null; then
  python3 -W ignore "$root/scripts/pytorch2/make_fixtures.py" "$out"
else
  echo "fixtures: python3 has no torch >= 2 here; using the Debian 13 chroot's python3-torch"
  "$root/scripts/debian13-chroot.sh" run "$root" python3 -W ignore scripts/pytorch2/make_fixtures.py "$out"
fi
