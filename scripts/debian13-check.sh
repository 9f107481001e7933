#!/usr/bin/env bash
# projntk on Debian 13 (libtorch 2.6, g++ 14, python3-torch 2.6), in the cached chroot of scripts/debian13-chroot.sh:
# a fresh clone of this checkout's HEAD runs the README's TARGET (default: test) inside it as the first command, then
# `make check-pytorch2` there: PyTorch 2.6's models and torch.func gradients against the libtorch 2.6 build.
#   scripts/debian13-check.sh [--fresh] [TARGET [MAKE ARGUMENTS...]]
# --fresh first removes, inside the chroot, the packages `make deps` installs, so TARGET starts from none of them.
# Needs root. CI runs it after the Debian 12 stages.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fresh=0
if [[ "${1:-}" == --fresh ]]; then fresh=1; shift; fi
target="${1:-test}"; shift || true
chroot_sh="$root/scripts/debian13-chroot.sh"
"$chroot_sh" ensure

work="$(mktemp -d /var/tmp/projntk-debian13.XXXXXX)"
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/projntk"
git -C "$work/projntk" checkout -q "$(git -C "$root" rev-parse HEAD)"

if [[ $fresh == 1 ]]; then
  echo "== Debian 13: removing libtorch-dev libopenblas-dev dataset-fashion-mnist libclang-*-dev"
  "$chroot_sh" run "$work/projntk" bash -c 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq libtorch-dev libopenblas-dev dataset-fashion-mnist "libclang-*-dev" >/dev/null 2>&1 || true
    ! dpkg-query -W -f="\${Status}" libtorch-dev 2>/dev/null | grep -q "install ok installed"'
fi
echo "== Debian 13: make $target $* (first command in a fresh clone)"
start=$(date +%s)
"$chroot_sh" run "$work/projntk" bash -c 'cat /etc/debian_version; make "$@"' make-target "$target" "$@"
echo "== Debian 13: make $target passed in $(( $(date +%s) - start )) s"
echo "== Debian 13: make check-pytorch2 (libtorch 2.6 build against python3-torch 2.6)"
"$chroot_sh" run "$work/projntk" make check-pytorch2
