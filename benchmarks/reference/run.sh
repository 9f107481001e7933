#!/usr/bin/env bash
# Runs the reference trNTK featurize pipeline (trntk_featurize.py) with Debian's PyTorch, installing it first when
# missing (Debian 12: python3-torch 1.13, which ships functorch). Arguments go to the script, e.g. --rows 1024 --K 2048.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if ! /usr/bin/python3 -c 'import torch, functorch' 2>/dev/null; then
  echo "installing python3-torch (Debian)" >&2
  if [[ $(id -u) -eq 0 ]]; then apt-get install -y --no-install-recommends python3-torch >&2
  else sudo apt-get install -y --no-install-recommends python3-torch >&2; fi
fi
exec /usr/bin/python3 "$here/trntk_featurize.py" "$@"
