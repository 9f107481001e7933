#!/usr/bin/env bash
# A Debian 13 (trixie) chroot for building and testing projntk against Debian's libtorch 2.x and python3-torch.
#   scripts/debian13-chroot.sh ensure            make it if missing (debootstrap, cached under $PROJNTK_CHROOT)
#   scripts/debian13-chroot.sh run DIR CMD...    run CMD as root inside it, in DIR (a host path bind-mounted at the
#                                                same path), with the host's Temurin 25 JDK bind-mounted read-only
# The chroot is made once per machine and reused; it is rebuilt when missing or when its stamp is from another
# version of the package list below. Needs root.
set -euo pipefail
CHROOT="${PROJNTK_CHROOT:-/var/cache/projntk/debian13}"
JDK="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
MIRROR="${PROJNTK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# What `make test` needs there beyond `make deps` (which runs inside and installs the rest), plus the PyTorch that
# writes the model fixtures.
PACKAGES=(ca-certificates git make g++ maven python3-torch python3-numpy python3-torchvision procps)
STAMP_TEXT="trixie ${PACKAGES[*]}"

die() { echo "debian13-chroot: $*" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || die "needs root (debootstrap, chroot and bind mounts)"

ensure() {
  mkdir -p "$(dirname "$CHROOT")"
  exec 8>"$CHROOT.build-lock"
  flock -x 8   # one builder at a time; the others wait and then find it made
  if [[ -f "$CHROOT/.projntk-stamp" && "$(cat "$CHROOT/.projntk-stamp")" == "$STAMP_TEXT" ]]; then exec 8>&-; return 0; fi
  command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  local tmp="$CHROOT.tmp"
  unmount_all "$tmp"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$CHROOT")"
  echo "debian13-chroot: debootstrap trixie into $CHROOT (once per machine)"
  debootstrap --variant=minbase trixie "$tmp" "$MIRROR" > "$tmp.log" 2>&1 || { tail -20 "$tmp.log" >&2; die "debootstrap failed (log: $tmp.log)"; }
  mount_all "$tmp"
  trap 'unmount_all "$tmp"' EXIT
  chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    bash -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${PACKAGES[*]} >/dev/null" \
    || die "apt-get install in the chroot failed"
  unmount_all "$tmp"
  trap - EXIT
  echo "$STAMP_TEXT" > "$tmp/.projntk-stamp"
  unmount_all "$CHROOT"
  if awk -v r="$CHROOT" 'index($2, r"/") == 1 {found = 1} END {exit !found}' /proc/self/mounts; then
    die "$CHROOT still has mounts (a run in progress?): not replacing it"
  fi
  rm -rf "$CHROOT"
  mv "$tmp" "$CHROOT"
  exec 8>&-
}

mount_all() {  # root
  local r="$1"
  mountpoint -q "$r/proc" || mount -t proc proc "$r/proc"
  mountpoint -q "$r/sys" || mount --rbind /sys "$r/sys"
  mountpoint -q "$r/dev" || mount --rbind /dev "$r/dev"
  cp /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
}

unmount_all() {  # root
  local r="$1" m
  [[ -d "$r" ]] || return 0
  # Deepest first, so nested bind mounts (JDK, work folders, /dev/pts) go before their parents.
  for m in $(awk -v r="$r" 'index($2, r"/") == 1 {print $2}' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}

run() {  # dir cmd...
  local dir="$1"; shift
  [[ -d "$dir" ]] || die "no folder $dir"
  ensure
  # Runs may overlap: each holds a shared lock while it runs, and the last one out (the one that can take the lock
  # exclusively) takes the mounts down.
  exec 9>"$CHROOT.run-lock"
  flock -s 9
  mount_all "$CHROOT"
  trap 'flock -xn 9 && unmount_all "$CHROOT"' EXIT
  mkdir -p "$CHROOT$JDK" "$CHROOT$dir"
  mountpoint -q "$CHROOT$JDK" || mount --bind -o ro "$JDK" "$CHROOT$JDK"
  # The JDK's trust store may be a link out of the JDK (Debian-style: /etc/ssl/certs/java/cacerts): the host's one
  # goes in with it, so Maven trusts what it trusts on the host.
  local trust
  trust="$(readlink -f "$JDK/lib/security/cacerts")"
  if [[ "$trust" != "$JDK"/* && -f "$trust" ]]; then
    mkdir -p "$CHROOT$(dirname "$trust")"
    mountpoint -q "$CHROOT$(dirname "$trust")" || mount --bind -o ro "$(dirname "$trust")" "$CHROOT$(dirname "$trust")"
  fi
  mountpoint -q "$CHROOT$dir" || mount --bind "$dir" "$CHROOT$dir"
  chroot "$CHROOT" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 JAVA_HOME="$JDK" \
    ${MAVEN_OPTS:+MAVEN_OPTS="$MAVEN_OPTS"} bash -c 'cd "$0" && exec "$@"' "$dir" "$@"
}

case "${1:-}" in
  ensure) ensure ;;
  run) shift; run "$@" ;;
  *) die "usage: $0 ensure | run DIR CMD..." ;;
esac
