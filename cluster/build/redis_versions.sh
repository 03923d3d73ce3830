#!/usr/bin/env bash
# Builds the Redis and Valkey versions Debian's other releases carry, from their
# source packages (the upstream tarball of each, with its bundled jemalloc and
# Lua: Debian's own patches link against system libraries this machine lacks),
# into a per-version cache outside the repository, beside the control plane's.
# Builds only what is missing. The node agent runs `redis:<tag>` and
# `valkey/valkey:<tag>` images with the matching build (cluster/node_agent/redis_builds.ts);
# Debian's own redis-server 7.0 stays the host's.
#
#   cluster/build/redis_versions.sh            build what is missing, print the cache folder
#   cluster/build/redis_versions.sh --print    only print the cache folder
#
# Each build is <flavor>-<version>/bin with <flavor>-server and <flavor>-cli (and,
# for Valkey, redis-server and redis-cli linked to them, as its `make install` does).
set -euo pipefail

cache_root=${REDIS_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/redis-operator}
builds="$cache_root/redis-builds"
# flavor version Debian-release (the release whose source package has that version)
versions=(
  "redis 6.0.16 bullseye"
  "redis 8.0.2 trixie"
  "redis 8.0.6 sid"
  "valkey 8.1.1 trixie"
  "valkey 9.1.2 sid"
)

if [ "${1:-}" = "--print" ]; then
  echo "$builds"
  exit 0
fi

# A private apt state per release: the machine's own sources are left alone.
fetch_source() { # fetch_source <flavor> <version> <release> <dir>
  local flavor=$1 version=$2 release=$3 dir=$4 state="$builds/.apt-$3"
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
  echo "deb-src http://deb.debian.org/debian $release main" >"$state/sources.list"
  local apt=(-o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o Debug::NoLocking=1)
  apt-get "${apt[@]}" -qq update
  # Only the upstream tarball is needed; a Debian part that has moved on in the archive
  # does not matter, so each file is fetched on its own and a 404 on the others is fine.
  (cd "$dir" && apt-get "${apt[@]}" -qq source --download-only "$flavor" >/dev/null 2>&1 || true)
  local tarball
  tarball=$(find "$dir" -maxdepth 1 -name "${flavor}_${version}*.orig.tar.*" | head -1)
  if [ -z "$tarball" ]; then
    echo "error: Debian $release no longer has $flavor $version (found: $(ls "$dir"))" >&2
    return 1
  fi
  tar -xf "$tarball" -C "$dir"
}

mkdir -p "$builds"
for entry in "${versions[@]}"; do
  read -r flavor version release <<<"$entry"
  out="$builds/$flavor-$version/bin"
  if [ -x "$out/$flavor-server" ] && [ -x "$out/$flavor-cli" ]; then continue; fi
  start=$(date +%s)
  echo "building $flavor $version (Debian $release's source package; about 2 minutes)" >&2
  work=$(mktemp -d)
  fetch_source "$flavor" "$version" "$release" "$work"
  src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name "$flavor-*" | head -1)
  make -C "$src" -j"$(nproc)" BUILD_TLS=yes >"$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log" >&2; exit 1; }
  mkdir -p "$out.tmp"
  cp "$src/src/$flavor-server" "$src/src/$flavor-cli" "$out.tmp/"
  if [ "$flavor" = valkey ]; then
    ln -s valkey-server "$out.tmp/redis-server"
    ln -s valkey-cli "$out.tmp/redis-cli"
  fi
  # Into place in one step: an interrupted build never leaves a half-filled folder.
  rm -rf "$out"
  mv "$out.tmp" "$out"
  rm -rf "$work"
  echo "  $("$out/$flavor-server" --version | cut -d' ' -f1-3) in $(($(date +%s) - start)) s" >&2
done
echo "$builds"
