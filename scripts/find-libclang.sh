#!/usr/bin/env bash
# Prints the libclang shared library that `make bindings` reads headers with: $LIBCLANG if set, else the newest
# Debian libclang (/usr/lib/llvm-N/lib/libclang.so.1, from libclang-dev, whatever N the release ships).
set -euo pipefail
if [[ -n "${LIBCLANG:-}" ]]; then
  [[ -f "$LIBCLANG" ]] || { echo "LIBCLANG=$LIBCLANG is not a file" >&2; exit 1; }
  echo "$LIBCLANG"; exit 0
fi
found=$(ls -1 /usr/lib/llvm-*/lib/libclang.so.1 /usr/lib/llvm-*/lib/libclang-*.so.1 2>/dev/null | sort -V | tail -1 || true)
[[ -n "$found" ]] || { echo "libclang not found: apt-get install libclang-dev, or set LIBCLANG=/path/to/libclang.so" >&2; exit 1; }
# The runtime package (libclang1-N) alone cannot parse a header: stddef.h comes with libclang-common-N-dev.
compgen -G "$(dirname "$found")/clang/*/include/stddef.h" >/dev/null ||
  { echo "$found has no built-in headers (clang/*/include/stddef.h): apt-get install libclang-dev" >&2; exit 1; }
echo "$found"
