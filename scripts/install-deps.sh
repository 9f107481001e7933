#!/usr/bin/env bash
# Installs the Debian packages projntk needs when any is missing (idempotent; needs root only when installing).
# Called by `make deps` and, before libtorch discovery, by the rule that writes build/torch.mk, so the very first
# `make demo` or `make test` on a fresh machine works.
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "installing: ${missing[*]}"
if [[ "$(id -u)" != 0 ]]; then
  echo "need root to apt-get install ${missing[*]}" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
