#!/usr/bin/env bash
# Engine benchmarks: store requests per GiB written to a real S3 server (s3proxy process) for
# 4 KiB random and 1 MiB sequential writes, and snapshot/clone time of a 100 GiB volume with
# 10 GiB of data. Prints a markdown table for docs/BENCHMARKS.md.
#   bench/engine.sh [WRITTEN=512M] [DATA=10G]     or: bench/engine.sh chunks
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mvn -B -q --no-transfer-progress -pl engine -am install -DskipTests
mvn -B -q --no-transfer-progress -pl engine dependency:build-classpath -Dmdep.outputFile=target/bench.classpath \
  -Dmdep.includeScope=test
cp="engine/target/classes:engine/target/test-classes:$(cat engine/target/bench.classpath)"
exec java -Xmx4g -Dremap.s3proxy.jar="$root/engine/target/s3proxy/s3proxy.jar" -cp "$cp" \
  dev.remap.engine.bench.EngineBenchmark "$@"
