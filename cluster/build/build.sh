#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and etcd
# from their official Go modules into a per-version cache outside the repository.
# Skips the build when the binaries are already there. Prints the bin folder.
#
#   cluster/build/build.sh            build if needed, print the bin folder
#   cluster/build/build.sh --print    only print the bin folder
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The pinned versions are read from the build modules, so go.mod is the one place to change them.
module_version() { awk -v m="$2" '{ for (i = 1; i < NF; i++) if ($i == m) { print $(i + 1); exit } }' "$1"; }
k8s_version=$(module_version "$here/kubernetes/go.mod" k8s.io/kubernetes)
etcd_version=$(module_version "$here/etcd/go.mod" go.etcd.io/etcd/server/v3)
cache_root=${REDIS_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/redis-operator}
bin="$cache_root/kubernetes-$k8s_version-etcd-$etcd_version/bin"
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd)

if [ "${1:-}" = "--print" ]; then
  echo "$bin"
  exit 0
fi

complete=1
for b in "${binaries[@]}"; do [ -x "$bin/$b" ] || complete=0; done
if [ "$complete" = 1 ]; then
  echo "$bin"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is not installed: install Go >= 1.26 (https://go.dev/dl) and run again" >&2
  exit 1
fi
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
if [ "$go_minor" -lt 26 ]; then
  echo "error: Go $(go env GOVERSION) is too old: Kubernetes $k8s_version needs Go >= 1.26" >&2
  exit 1
fi

minor=$(echo "$k8s_version" | cut -d. -f2)
stamp="k8s.io/component-base/version"
ldflags="-s -w -X $stamp.gitVersion=$k8s_version -X $stamp.gitMajor=1 -X $stamp.gitMinor=$minor"
ldflags="$ldflags -X $stamp.gitTreeState=clean -X $stamp.buildDate=1970-01-01T00:00:00Z"
tmp="$bin.partial"
mkdir -p "$tmp"
start=$(date +%s)
echo "building Kubernetes $k8s_version and etcd $etcd_version into $bin (cold build: 15-30 minutes)" >&2
(
  cd "$here/kubernetes"
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [ -x "$tmp/$c" ] && continue
    echo "  go build $c" >&2
    CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/$c.tmp" "k8s.io/kubernetes/cmd/$c"
    mv "$tmp/$c.tmp" "$tmp/$c"
  done
)
(
  cd "$here/etcd"
  if [ ! -x "$tmp/etcd" ]; then
    echo "  go build etcd" >&2
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/etcd.tmp" go.etcd.io/etcd/server/v3
    mv "$tmp/etcd.tmp" "$tmp/etcd"
  fi
)
rm -rf "$bin"
mv "$tmp" "$bin"
echo "built in $(($(date +%s) - start)) s; size: $(du -sh "$bin" | cut -f1)" >&2
echo "$bin"
