#!/usr/bin/env bash
# Builds the application writers of the client view (tests/clients) and the history
# tool (tests/history) into a
# cache outside the repository: go-redis from the Go module proxy, redis-py from
# PyPI, Jedis from Maven Central (ioredis comes with the project's npm dependencies), and the
# Prometheus Operator's CRDs for the monitoring test. Skips what is cached. Writes the paths to `<cache>/clients/current.env` and prints it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${REDIS_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/redis-operator}
dir="$cache_root/clients"
mkdir -p "$dir"

go_key=$(cat "$here/go_redis/go.mod" "$here/go_redis/go.sum" "$here/go_redis/main.go" | sha256sum | cut -c1-12)
go_writer="$dir/go-redis-writer-$go_key"
if [ ! -x "$go_writer" ]; then
  (cd "$here/go_redis" && CGO_ENABLED=0 go build -trimpath -o "$go_writer.tmp" .)
  mv "$go_writer.tmp" "$go_writer"
fi

# The history recorder and Porcupine checker (tests/history), from the Go module proxy.
history_dir="$here/../history"
history_key=$(cat "$history_dir"/go.mod "$history_dir"/go.sum "$history_dir"/*.go | sha256sum | cut -c1-12)
history_tool="$dir/history-$history_key"
if [ ! -x "$history_tool" ]; then
  (cd "$history_dir" && CGO_ENABLED=0 go build -trimpath -o "$history_tool.tmp" .)
  mv "$history_tool.tmp" "$history_tool"
fi

py_key=$(cat "$here/requirements.txt" "$0" | sha256sum | cut -c1-12)
py_path="$dir/redis-py-$py_key"
if [ ! -d "$py_path" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    --target "$py_path.tmp" -r "$here/requirements.txt"
  mv "$py_path.tmp" "$py_path"
fi

# Jedis from Maven Central: the class and its dependencies' jars, run with the host's java.
jedis_key=$(cat "$here/jedis/pom.xml" "$here/jedis/src/main/java/Writer.java" | sha256sum | cut -c1-12)
jedis_path="$dir/jedis-$jedis_key"
if [ ! -d "$jedis_path" ]; then
  rm -rf "$jedis_path.tmp"
  mkdir -p "$jedis_path.tmp"
  # Built in a copy, so no target/ lands in the repository.
  cp -r "$here/jedis" "$jedis_path.tmp/build"
  mvn -q -B -f "$jedis_path.tmp/build/pom.xml" \
    package dependency:copy-dependencies -DoutputDirectory="$jedis_path.tmp/lib"
  mv "$jedis_path.tmp/build/target/classes" "$jedis_path.tmp/classes"
  rm -rf "$jedis_path.tmp/build"
  mv "$jedis_path.tmp" "$jedis_path"
fi

# The Prometheus Operator's CRDs (ServiceMonitor, PodMonitor, PrometheusRule) from its Go
# module, so the e2e suite can apply deploy/monitoring with the API server's validation.
prom_op_version=v0.80.1
crds="$cache_root/monitoring/prometheus-operator-$prom_op_version"
if [ ! -d "$crds" ]; then
  module_dir=$(cd "$here" && GOFLAGS=-mod=mod go mod download -json \
    "github.com/prometheus-operator/prometheus-operator@$prom_op_version" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  mkdir -p "$crds.tmp"
  for kind in servicemonitors podmonitors prometheusrules; do
    cp "$module_dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$crds.tmp/"
  done
  mv "$crds.tmp" "$crds"
fi

cat >"$dir/current.env" <<ENV
GO_REDIS_WRITER=$go_writer
HISTORY_TOOL=$history_tool
REDIS_PY_PATH=$py_path
JEDIS_CLASSPATH=$jedis_path/classes:$jedis_path/lib/*
PROMETHEUS_OPERATOR_CRDS=$crds
ENV
echo "$dir/current.env"
