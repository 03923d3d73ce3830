#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy,
# kubectl, etcd and CoreDNS from their official Go modules into a per-version
# cache outside the repository. Builds only what is missing. Prints the bin folder
# (CoreDNS has its own per-version folder, linked from there as `coredns`).
#
#   cluster/build/build.sh            build if needed, print the bin folder
#   cluster/build/build.sh --print    only print the bin folder
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The pinned versions are read from the build modules, so go.mod is the one place to change them.
module_version() { awk -v m="$2" '{ for (i = 1; i < NF; i++) if ($i == m) { print $(i + 1); exit } }' "$1"; }
k8s_version=$(module_version "$here/kubernetes/go.mod" k8s.io/kubernetes)
etcd_version=$(module_version "$here/etcd/go.mod" go.etcd.io/etcd/server/v3)
coredns_version=$(module_version "$here/coredns/go.mod" github.com/coredns/coredns)
cache_root=${REDIS_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/redis-operator}
bin="$cache_root/kubernetes-$k8s_version-etcd-$etcd_version/bin"
coredns_bin="$cache_root/coredns-$coredns_version/bin"
kubernetes_binaries=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl)

if [ "${1:-}" = "--print" ]; then
  echo "$bin"
  exit 0
fi

missing=()
for b in "${kubernetes_binaries[@]}" etcd; do [ -x "$bin/$b" ] || missing+=("$b"); done
[ -x "$coredns_bin/coredns" ] || missing+=(coredns)
if [ ${#missing[@]} -eq 0 ]; then
  ln -sfn "$coredns_bin/coredns" "$bin/coredns"
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
mkdir -p "$bin" "$coredns_bin"
start=$(date +%s)
echo "building ${missing[*]} (Kubernetes $k8s_version, etcd $etcd_version, CoreDNS $coredns_version; cold build: about 12 minutes)" >&2
# Each binary is built to a temporary name and moved into place, so an interrupted
# build never leaves a half-written binary that the check above would accept.
build() { # build <module folder> <output> <package> [go build flags...]
  local dir=$1 out=$2 package=$3
  shift 3
  echo "  go build $package" >&2
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath "$@" -o "$out.tmp" "$package")
  mv "$out.tmp" "$out"
}
for c in "${kubernetes_binaries[@]}"; do
  [ -x "$bin/$c" ] || build "$here/kubernetes" "$bin/$c" "k8s.io/kubernetes/cmd/$c" -ldflags "$ldflags"
done
[ -x "$bin/etcd" ] || build "$here/etcd" "$bin/etcd" go.etcd.io/etcd/server/v3 -ldflags "-s -w"
[ -x "$coredns_bin/coredns" ] ||
  build "$here/coredns" "$coredns_bin/coredns" github.com/coredns/coredns -ldflags "-s -w"
ln -sfn "$coredns_bin/coredns" "$bin/coredns"
echo "built in $(($(date +%s) - start)) s; size: $(du -sh "$bin" | cut -f1)" >&2
echo "$bin"
