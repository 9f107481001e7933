#!/usr/bin/env bash
# Prints make variables describing the libtorch to build against, searched in this order:
#   1. $LIBTORCH                     (an unpacked libtorch: $LIBTORCH/include, $LIBTORCH/lib)
#   2. $LIBTORCH_USE_PYTORCH=1       (the torch package of `python3`, as on the GPU machine)
#   3. Debian's system libtorch      (libtorch-dev: /usr/include/torch, /usr/lib/<triplet>)
#   4. a Python torch install, as a last resort
# Output: TORCH_ROOT, TORCH_INC, TORCH_LIB, TORCH_ABI, TORCH_CUDA (1 if libtorch_cuda exists).
set -euo pipefail

emit() {  # root incdir libdir abi
  local cuda=0
  [[ -e "$3/libtorch_cuda.so" ]] && cuda=1
  echo "TORCH_ROOT=$1"
  if [[ "$2" == /usr/include ]]; then
    echo "TORCH_INC=-isystem $2/torch/csrc/api/include"
  else
    echo "TORCH_INC=-isystem $2 -isystem $2/torch/csrc/api/include"
  fi
  echo "TORCH_LIB=$3"
  echo "TORCH_ABI=$4"
  echo "TORCH_CUDA=$cuda"
  exit 0
}

from_python() {
  local root abi
  root=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null) || return 1
  abi=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
  emit "$root" "$root/include" "$root/lib" "$abi"
}

if [[ -n "${LIBTORCH:-}" ]]; then
  [[ -d "$LIBTORCH/include/torch" ]] || { echo "LIBTORCH=$LIBTORCH has no include/torch" >&2; exit 1; }
  emit "$LIBTORCH" "$LIBTORCH/include" "$LIBTORCH/lib" 1
fi
if [[ "${LIBTORCH_USE_PYTORCH:-0}" == 1 ]]; then
  from_python || { echo "LIBTORCH_USE_PYTORCH=1 but python3 cannot import torch" >&2; exit 1; }
fi
triplet=$(gcc -dumpmachine)
if [[ -d /usr/include/torch && -e /usr/lib/$triplet/libtorch.so ]]; then
  emit /usr /usr/include "/usr/lib/$triplet" 1
fi
from_python || true
echo "libtorch not found: tried \$LIBTORCH, LIBTORCH_USE_PYTORCH=1, /usr/include/torch (apt-get install libtorch-dev), python3 -c 'import torch'" >&2
exit 1
