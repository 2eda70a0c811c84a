#!/usr/bin/env bash
# Relay and STUN Binding performance of this project against coturn, side by side, in one run (about 13 min).
# Needs: Java 17, Maven, and the Debian packages coturn (turnserver, turnutils_uclient, turnutils_peer), gcc and
# libssl-dev (the C floor relay, turnfloor.c, signs its answers with libcrypto; `--floor no` leaves it out).
# Loopback only; every process it starts is killed by PID at the end. Extra arguments go to the harness, e.g.
#   benchmarks/run-relay-vs-coturn.sh --sessions 60,80,100 --only relay --threads 2 --budget-seconds 300
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in turnserver turnutils_uclient turnutils_peer gcc java mvn; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install -y coturn gcc)" >&2; exit 2; }
done
# Build what the harness runs: the modules it depends on, then the harness itself (the root pom lists it too, so
# `mvn verify` keeps it compiling; building it here alone is quicker than the whole reactor).
mvn -B -q -DskipTests install -pl protocol,introducer-verticle,relay-verticle
mvn -B -q -DskipTests -f benchmarks/pom.xml package
# BENCH_NICE=-5 runs the harness and everything it starts (both servers, clients, peer) at that niceness, the same
# for coturn and ours: on a machine shared with other work it keeps that work from deciding the result.
exec nice -n "${BENCH_NICE:-0}" java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
  io.introducer.bench.RelayVsCoturn --out benchmarks/target/relay-vs-coturn.md "$@"
