#!/usr/bin/env bash
# Newer QGIS releases for the test suite, in Debian chroots cached outside the work tree.
#
#   tools/qgis_env.sh build 3.40|3.44          build the environment once (reused when present)
#   tools/qgis_env.sh test 3.40|3.44 [ARGS]    run pytest inside it (ARGS default: -q tests)
#   tools/qgis_env.sh run 3.40|3.44 CMD...     run any command inside it, from the work tree
#
# 3.40 is Debian trixie, 3.44 Debian sid, both from the Debian archive the host's apt already uses.
# Environments live in ${CHANGELENS_QGIS_ENVS:-$HOME/.cache/changelens-qgis}/<suite> (about 2.8 GB each);
# the test venv inside is /opt/changelens-venv (call its bin/python or bin/pytest by path).
# The work tree and ../shared are bind-mounted at their own paths, so tests and real data behave
# as on the host; every mount is undone on exit, and a directory is only removed with nothing mounted in it.
# Needs root (debootstrap, chroot, mount).
set -euo pipefail

ENVS="${CHANGELENS_QGIS_ENVS:-$HOME/.cache/changelens-qgis}"
WORKTREE="$(cd "$(dirname "$0")/.." && pwd -P)"
VENV=/opt/changelens-venv
PACKAGES="ca-certificates qgis python3-qgis qgis-providers gdal-bin python3-gdal python3-venv git chromium fonts-dejavu-core poppler-utils"
NICE="nice -n 10"
MOUNTED_ROOT=""

die() { echo "qgis_env: $*" >&2; exit 1; }
say() { echo "qgis_env: $*" >&2; }

suite_for() {
  case "$1" in
    3.40) echo trixie ;;
    3.44) echo sid ;;
    *) die "unknown QGIS version '$1' (3.40 or 3.44)" ;;
  esac
}

# The Debian archive URL that the host's apt sources already use (same mirror, no new network access).
debian_mirror() {
  local codename url
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  url="$(apt-get indextargets --format '$(REPO_URI) $(CODENAME) $(ORIGIN)' 2>/dev/null \
    | awk -v c="$codename" '$2 == c && $3 == "Debian" { print $1; exit }')"
  [ -n "$url" ] || die "no Debian archive for '$codename' in the host's apt sources"
  echo "${url%/}"
}

mounts_under() { awk -v top="$1/" 'index($2, top) == 1 { print $2 }' /proc/self/mounts | sort -r; }

unmount_all() {
  local top="$1" point
  [ -n "$top" ] || return 0
  while read -r point; do
    [ -n "$point" ] || continue
    umount "$point" 2>/dev/null || umount -l "$point"
  done < <(mounts_under "$top")
}

cleanup() { unmount_all "$MOUNTED_ROOT"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Remove a directory only when nothing is mounted inside it (never delete through a bind mount).
safe_remove() {
  [ -e "$1" ] || return 0
  [ -z "$(mounts_under "$1")" ] || die "refusing to remove $1: something is still mounted inside it"
  rm -rf --one-file-system "$1"
}

bind() {  # bind ROOT SOURCE [TARGET [ro]]: SOURCE inside ROOT at TARGET (default: the same path)
  local root="$1" source="$2" target="${3:-$2}" mode="${4:-rw}"
  mkdir -p "$root$target"
  mount --bind "$source" "$root$target"
  if [ "$mode" = ro ]; then mount -o remount,bind,ro "$root$target"; fi
}

mount_system() {
  local root="$1"
  MOUNTED_ROOT="$root"
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount --bind /dev "$root/dev"
  mount --bind /dev/pts "$root/dev/pts"
  mount -t tmpfs -o mode=1777,size=1g shm "$root/dev/shm"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
}

# The work tree, its git directory when it lies elsewhere (a linked worktree), and ../shared.
mount_worktree() {
  local root="$1" common
  bind "$root" "$WORKTREE"
  common="$(git -C "$WORKTREE" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)"
  if [ -n "$common" ] && [ -d "$common" ] && [ "${common#"$WORKTREE"/}" = "$common" ]; then
    bind "$root" "$common" "$common" ro
  fi
  # The tests look for <work tree>/../shared; it may be a link, so mount what it points to at that path.
  local shared
  shared="$(dirname "$WORKTREE")/shared"
  if [ -d "$shared" ]; then bind "$root" "$(cd "$shared" && pwd -P)" "$shared" ro; fi
}

# A clean environment inside the chroot. The venv stays off PATH, as on the host: qgis_process's embedded
# Python would otherwise find the venv's python3 on PATH and load its packages (onnxruntime) too.
in_root() {  # in_root ROOT CMD...
  local root="$1"
  shift
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PYTHONUNBUFFERED=1 QT_QPA_PLATFORM=offscreen \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt DEBIAN_FRONTEND=noninteractive CI="${CI:-}" "$@"
}

# pip's index settings from the host (index-url, extra-index-url, trusted-host; file:// indexes are
# host paths and stay out), with the chroot's own certificate bundle.
pip_conf() {
  echo "[global]"
  echo "cert = /etc/ssl/certs/ca-certificates.crt"
  /usr/bin/python3 -m pip config list 2>/dev/null | python3 -c '
import shlex, sys
keys = {}
for line in sys.stdin:
    name, _, value = line.strip().partition("=")
    key = name.rpartition(".")[2]
    if key in ("index-url", "extra-index-url", "trusted-host", "timeout", "default-timeout"):
        words = [w for w in shlex.split(value) if not w.startswith("file:")]
        keys.setdefault(key, [])
        keys[key] += [w for w in words if w not in keys[key]]
for key, words in keys.items():
    if words:
        print(f"{key} = " + " ".join(words))
'
}

build_system() {
  local suite="$1" root="$2" partial="$2.partial" mirror
  mirror="$(debian_mirror)"
  safe_remove "$partial"
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  say "debootstrap $suite from $mirror into $partial"
  $NICE debootstrap --variant=minbase "$suite" "$partial" "$mirror" >"$ENVS/$suite.debootstrap.log" 2>&1 \
    || die "debootstrap failed, see $ENVS/$suite.debootstrap.log"
  echo "deb $mirror $suite main" >"$partial/etc/apt/sources.list"
  # The archive may be a frozen snapshot whose Release files are past their Valid-Until date.
  printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n' \
    >"$partial/etc/apt/apt.conf.d/99changelens-snapshot"
  printf '#!/bin/sh\nexit 101\n' >"$partial/usr/sbin/policy-rc.d"  # no services start in the chroot
  chmod +x "$partial/usr/sbin/policy-rc.d"
  mount_system "$partial"
  say "installing QGIS into $suite"
  in_root "$partial" $NICE apt-get update -qq
  in_root "$partial" $NICE apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
  # Certificates the host added locally (e.g. for a TLS-inspecting proxy), so pip inside reaches the index.
  if compgen -G "/usr/local/share/ca-certificates/*" >/dev/null; then
    cp -r /usr/local/share/ca-certificates/. "$partial/usr/local/share/ca-certificates/"
  fi
  in_root "$partial" update-ca-certificates >/dev/null 2>&1
  pip_conf >"$partial/etc/pip.conf"
  in_root "$partial" apt-get clean
  unmount_all "$partial"
  MOUNTED_ROOT=""
  mkdir -p "$partial/.changelens"
  echo "$PACKAGES" >"$partial/.changelens/system"
  mv "$partial" "$root"
}

# The test venv, rebuilt when requirements-test.txt changes; numpy stays the chroot's own (QGIS's).
build_venv() {
  local root="$1" stamp
  stamp="$root/.changelens/venv-$(sha256sum "$WORKTREE/requirements-test.txt" | cut -c1-16)"
  [ -e "$stamp" ] && return 0
  say "installing the test requirements into $root$VENV"
  rm -f "$root"/.changelens/venv-*
  mount_system "$root"
  cp "$WORKTREE/requirements-test.txt" "$root/tmp/requirements-test.txt"
  in_root "$root" sh -ec "
    [ -x $VENV/bin/python ] || /usr/bin/python3 -m venv --system-site-packages $VENV
    echo numpy==\$(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)') > /tmp/constraints.txt
    $NICE $VENV/bin/python -m pip install -q --disable-pip-version-check \
      -c /tmp/constraints.txt -r /tmp/requirements-test.txt
    rm -rf /root/.cache/pip /tmp/constraints.txt /tmp/requirements-test.txt"
  unmount_all "$root"
  MOUNTED_ROOT=""
  touch "$stamp"
}

ensure() {  # ensure ROOT SUITE: build what is missing or out of date
  local root="$1" suite="$2"
  unmount_all "$root"  # left behind by a run that was killed (the lock is ours now)
  if [ ! -e "$root/.changelens/system" ] || [ "$(cat "$root/.changelens/system")" != "$PACKAGES" ]; then
    safe_remove "$root"
    build_system "$suite" "$root"
  fi
  build_venv "$root"
}

main() {
  [ $# -ge 2 ] || die "usage: $0 build|test|run 3.40|3.44 [ARGS...]"
  local action="$1" version="$2" root suite
  shift 2
  [ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot and mounts)"
  case "$WORKTREE$ENVS" in *[[:space:]]*) die "paths with spaces are not supported" ;; esac
  suite="$(suite_for "$version")"
  mkdir -p "$ENVS"
  exec 9>"$ENVS/$suite.lock"
  flock 9  # one build or run per environment at a time (mount points are shared)
  root="$ENVS/$suite"
  ensure "$root" "$suite"
  case "$action" in
    build) return 0 ;;
    test) [ $# -gt 0 ] || set -- -q tests; set -- "$VENV/bin/pytest" "$@" ;;
    run) [ $# -gt 0 ] || die "run needs a command" ;;
    *) die "unknown action '$action' (build, test or run)" ;;
  esac
  mount_system "$root"
  mount_worktree "$root"
  say "QGIS $version ($suite): $*"
  in_root "$root" sh -c 'cd "$0" && exec "$@"' "$WORKTREE" "$@"
}

main "$@"
