#!/usr/bin/env bash
# The README's promise, checked: a README command works as the first command on a machine without the Debian packages.
#   scripts/fresh-machine-check.sh [--clone] TARGET [MAKE ARGUMENTS...]
# Removes the packages `make deps` installs (as root), then runs `make TARGET` in this checkout, or with --clone in a
# fresh clone of its HEAD in an empty directory. CI runs it for `make test` and for a reduced `make demo`; it is what
# caught the first `make demo` stopping with "No rule to make target 'build/torch.mk'".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clone=0
if [[ "${1:-}" == --clone ]]; then clone=1; shift; fi
target="${1:?usage: $0 [--clone] TARGET [MAKE ARGUMENTS...]}"; shift
if [[ "$(id -u)" != 0 ]]; then echo "fresh-machine-check: needs root (it removes and reinstalls Debian packages)" >&2; exit 1; fi

# make deps installs these; libclang (make bindings only) goes too, whichever version is there, so that nothing
# but `make deps` can have provided what the target needs.
libclangs=$( (dpkg-query -W -f='${Package} ${Status}\n' 'libclang-*dev' 2>/dev/null || true) | awk '/install ok installed/ {print $1}')
removable=(libtorch-dev libopenblas-dev dataset-fashion-mnist $libclangs)
echo "== removing ${removable[*]}"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "${removable[@]}" >/dev/null
for p in "${removable[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    echo "fresh-machine-check: $p is still installed" >&2; exit 1
  fi
done
[[ ! -e /usr/include/torch ]] || { echo "fresh-machine-check: /usr/include/torch survived the removal" >&2; exit 1; }

dir="$root"
if [[ $clone == 1 ]]; then
  dir="$(mktemp -d)/projntk"
  git clone -q "$root" "$dir"
fi
echo "== make $target $* (in $dir, first command after the packages went)"
cd "$dir"
start=$(date +%s)
make "$target" "$@"
echo "== make $target passed on a machine without the packages in $(( $(date +%s) - start )) s"
