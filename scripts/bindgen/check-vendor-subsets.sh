#!/usr/bin/env bash
# Checks native/include/vendor/*_subset.h against NVIDIA's real headers, where those are installed:
# every subset prototype is redeclared after the real header (a C compiler rejects conflicting types),
# and every subset enum value is compared with a _Static_assert.
#   scripts/bindgen/check-vendor-subsets.sh [CUDA_INCLUDE_DIR]   (default: $CUDA_HOME/include or /usr/local/cuda/include)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
inc="${1:-${CUDA_HOME:-/usr/local/cuda}/include}"
cc="${CC:-cc}"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
status=0

check() { # subset header, real headers...
  local subset="$root/native/include/vendor/$1"; shift
  for h in "$@"; do
    if [ ! -f "$inc/$h" ]; then echo "skip $(basename "$subset"): $inc/$h not installed"; return; fi
  done
  local c="$tmp/check.c"
  : > "$c"
  for h in "$@"; do echo "#include <$h>" >> "$c"; done
  # prototypes: from a line starting with a return type and a name followed by '(' through ');'
  awk '/^(cudaError_t|const char \*|cublasStatus_t|curandStatus_t) *[A-Za-z_0-9]+\(/ {on=1} on {print} /\);/ {on=0}' \
    "$subset" >> "$c"
  # enum values: NAME = VALUE lines
  sed -nE 's/^[[:space:]]*([A-Za-z_][A-Za-z_0-9]*)[[:space:]]*=[[:space:]]*(-?[0-9]+),?.*/_Static_assert(\1 == \2, "\1");/p' \
    "$subset" >> "$c"
  if "$cc" -fsyntax-only -I"$inc" "$c"; then
    echo "ok   $(basename "$subset"): $(grep -c '^_Static_assert' "$c") enum values and $(grep -cE '^(cudaError_t|const char|cublasStatus_t|curandStatus_t)' "$c") prototypes match $*"
  else
    echo "FAIL $(basename "$subset") differs from $*" >&2; status=1
  fi
}

check cudart_subset.h cuda_runtime_api.h library_types.h
check cublas_subset.h cublas_api.h
check curand_subset.h curand.h
exit $status
