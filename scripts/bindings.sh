#!/usr/bin/env bash
# Regenerates every generated FFM binding into OUTDIR (package org.projntk.bindings).
#   scripts/bindings.sh OUTDIR
# Uses jextract when it is on PATH, otherwise the project's own generator (scripts/bindgen/BindGen.java,
# which needs libclang: Debian libclang-dev, found by scripts/find-libclang.sh). PROJNTK_BINDGEN=builtin|jextract forces one of them.
# Output is byte-deterministic: `make check-bindings` diffs it against bindings/java.
set -euo pipefail

if [ $# -ne 1 ]; then echo "usage: $0 OUTDIR" >&2; exit 2; fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
cd "$root"   # header paths in the generated comments are relative to the repository root

pkg=org.projntk.bindings
cblas_h=/usr/include/x86_64-linux-gnu/cblas.h
[ -f "$cblas_h" ] || cblas_h=/usr/include/cblas.h
vendor=native/include/vendor

cblas_functions=(cblas_sgemm cblas_ssyrk cblas_dgemm cblas_dsyrk cblas_dtrsm cblas_dtrmm cblas_sgemv cblas_sdot openblas_get_config
  openblas_get_corename openblas_get_num_threads openblas_set_num_threads openblas_get_parallel)
cblas_constants=(CblasRowMajor CblasColMajor CblasNoTrans CblasTrans CblasConjTrans CblasConjNoTrans
  CblasUpper CblasLower CblasLeft CblasRight CblasNonUnit CblasUnit)

# One entry per generated header class: "header class".
headers=(
  "native/include/projntk.h projntk_h"
  "$cblas_h cblas_h"
  "$vendor/cudart_subset.h cudart_h"
  "$vendor/cublas_subset.h cublas_h"
  "$vendor/curand_subset.h curand_h"
)

for h in "${headers[@]}"; do
  set -- $h
  [ -f "$1" ] || { echo "bindings: header $1 not found" >&2; exit 1; }
done

tool="${PROJNTK_BINDGEN:-}"
if [ -z "$tool" ]; then
  if command -v jextract >/dev/null 2>&1; then tool=jextract; else tool=builtin; fi
fi

pkgdir="$out/${pkg//.//}"
# Generate next to OUTDIR, then swap the package folder in: a failed run leaves OUTDIR untouched,
# and classes of a removed declaration do not survive.
gen="$(mktemp -d)"
trap 'rm -rf "$gen"' EXIT

case "$tool" in
  jextract)
    for h in "${headers[@]}"; do
      set -- $h
      filters=()
      if [ "$2" = cblas_h ]; then
        for f in "${cblas_functions[@]}"; do filters+=(--include-function "$f"); done
        for c in "${cblas_constants[@]}"; do filters+=(--include-constant "$c"); done
      fi
      jextract --output "$gen" --target-package "$pkg" --header-class-name "$2" \
        -I native/include -I "$vendor" "${filters[@]}" "$1"
    done
    ;;
  builtin)
    JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
    libclang="$(scripts/find-libclang.sh)"
    args=(--out "$gen" --package "$pkg" --libclang "$libclang" --symbols-from org.projntk.internal.NativeLibraries -I native/include -I "$vendor")
    for h in "${headers[@]}"; do
      set -- $h
      args+=(--header "$1" --class "$2")
      if [ "$2" = cblas_h ]; then
        for f in "${cblas_functions[@]}"; do args+=(--include-function "$f"); done
        for c in "${cblas_constants[@]}"; do args+=(--include-constant "$c"); done
      fi
    done
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED scripts/bindgen/BindGen.java "${args[@]}"
    ;;
  *) echo "bindings: PROJNTK_BINDGEN must be builtin or jextract, not '$tool'" >&2; exit 2 ;;
esac
rm -rf "$pkgdir"
mkdir -p "$(dirname "$pkgdir")"
mv "$gen/${pkg//.//}" "$pkgdir"
echo "bindings: generated $(ls "$pkgdir" | wc -l) files into $pkgdir with $tool"
