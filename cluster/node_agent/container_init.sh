#!/bin/sh
# Turns the current process into a container, then execs the container's command.
# Runs as root inside the pod's network namespace and a fresh mount and UTS
# namespace (nsenter + unshare), so every mount below is private to the container.
#
#   container_init.sh LOG ROOTFS HOSTNAME WORKDIR USER GROUPS RO_ROOT CHOWN CGROUPS [SRC DST ro|rw]... -- COMMAND...
#
# CGROUPS is a colon-separated list of cgroup directories the process joins first
# (the container's memory and CPU limits), or "-".
#
# CHOWN is a uid that gets every file of WORKDIR it does not own, as the official
# redis image's entrypoint does before it drops to that user; "-" for none.
#
# The root file system is a tmpfs holding the host's /usr read-only (Debian is
# usr-merged, so /bin, /lib... are symlinks into it), /dev, /proc, a private
# /tmp and a minimal /etc; volumes are bind-mounted where the pod spec says.
set -eu
log=$1 root=$2 name=$3 workdir=$4 user=$5 groups=$6 ro_root=$7 chown_to=$8 cgroups=$9
shift 9
# Before anything else runs: the limits hold for the container's whole life.
if [ "$cgroups" != - ]; then
  for dir in $(echo "$cgroups" | tr : ' '); do echo $$ >"$dir/cgroup.procs"; done
fi
exec >>"$log" 2>&1

mkdir -p "$root"
mount -t tmpfs -o mode=0755 rootfs "$root"
mkdir -p "$root/usr" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/etc" \
  "$root/run" "$root/var/tmp" "$root/root" "$root/data"
mount --rbind /usr "$root/usr"
mount -o remount,bind,ro "$root/usr"
for link in bin sbin lib lib64; do ln -s "usr/$link" "$root/$link"; done
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
chmod 1777 "$root/tmp" "$root/var/tmp"
for file in passwd group nsswitch.conf ld.so.cache localtime; do
  if [ -e "/etc/$file" ]; then cp -L "/etc/$file" "$root/etc/$file"; fi
done
if [ -d /etc/ssl ]; then
  mkdir -p "$root/etc/ssl"
  mount --rbind /etc/ssl "$root/etc/ssl"
fi
hostname "$name"

while [ "$1" != "--" ]; do
  src=$1 dst=$2 mode=$3
  shift 3
  if [ -d "$src" ]; then
    mkdir -p "$root$dst"
  else
    mkdir -p "$(dirname "$root$dst")"
    : >"$root$dst"
  fi
  mount --bind "$src" "$root$dst"
  if [ "$mode" = ro ]; then mount -o remount,bind,ro "$root$dst"; fi
done
shift
# Inside the chroot, on the working dir's own file system, never through a symlink:
# the host's files stay as they are whatever the volumes hold.
if [ "$chown_to" != - ] && [ -d "$root$workdir" ]; then
  chroot "$root" find "$workdir" -xdev \! -user "$chown_to" -exec chown -h "$chown_to" '{}' + || true
fi
# readOnlyRootFilesystem: the tmpfs root becomes read-only; volumes stay as mounted.
if [ "$ro_root" = true ]; then mount -o remount,ro "$root"; fi

group_flag=""
if [ -n "$groups" ]; then group_flag="--groups=$groups"; fi
# shellcheck disable=SC2086
exec chroot --userspec="$user" $group_flag "$root" /bin/sh -c 'cd "$0" && exec "$@"' "$workdir" "$@"
