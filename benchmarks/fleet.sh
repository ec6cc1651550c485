#!/usr/bin/env bash
# A simulated fleet against one real node over TLS on loopback, bounded in time (see FleetBenchmark
# and SimulatedFleet). The server runs in a JVM of its own; only 127.0.0.1 is a target.
#
#   mvn -q -B install -DskipTests -DskipITs
#   benchmarks/fleet.sh --agents=19000 --connections=per-agent --store=sqlite      # the socket ceiling
#   benchmarks/fleet.sh --agents=100000 --connections=shared:2000 --store=postgres  # 100k agents' request rate
#   benchmarks/fleet.sh --storm --agents=10000 --store=sqlite --server-tls=jdk      # reconnect storm
#   benchmarks/fleet.sh --scale-out --agents=4000                                   # two nodes on one PostgreSQL
#
# Options (--name=value; steady default / storm default):
#   --agents=N                 19000 / 10000
#   --connections=MODE         per-agent | shared:K | per-poll       per-agent / per-poll
#   --store=KIND               memory | sqlite | postgres            sqlite (postgres: database egosecure_bench is recreated)
#   --interval=SECONDS         60      the tenant's poll interval
#   --jitter=PERCENT           10
#   --push=BOOL                false / true
#   --long-poll=BOOL           false
#   --client-tls=PROVIDER      jdk | conscrypt                       jdk (Conscrypt client connections hold a socket and a pipe pair: ~6,600 per JVM)
#   --server-tls=PROVIDER      jdk | conscrypt                       jdk
#   --connecting=N             16 / 128   TLS handshakes in flight at most, whole fleet
#   --ramp=SECONDS             max(interval, agents / 150)   first polls spread over this (each costs a handshake and a signature)
#   --warmup=SECONDS           interval / 2
#   --window=INTERVALS         2          the measured window (steady)
#   --storm                    restart the server under the fleet and time the return
#   --restart=HOW              kill (SIGKILL) | close (clean stop)   kill
#   --scale-out                nodes A and B on one PostgreSQL (agents 4000, push on): publish on A timed to
#                              A's and B's agents, then kill -9 A and time until every agent has B's new revision
#
# SERVER_HEAP (default 2g) sizes the server JVM; CLIENT_HEAP (default 6g: the simulated agents hold about 80 KiB per connection) the fleet's.
set -euo pipefail
cd "$(dirname "$0")/.."
cp_file=$(mktemp /tmp/egosecure-fleet-cp.XXXXXX)
trap 'rm -f "$cp_file"' EXIT
mvn -q -B ${MAVEN_ARGS:-} -pl benchmarks dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
# The agents skip the host-name check (see LoopbackTls); Jetty would warn once per client.
java -Xmx"${CLIENT_HEAP:-6g}" -Dorg.slf4j.simpleLogger.log.org.eclipse.jetty.util.ssl.SslContextFactory.config=error \
  ${BENCH_JAVA_OPTS:-} -Dserver.heap="${SERVER_HEAP:-2g}" -cp "benchmarks/target/classes:$(cat "$cp_file")" \
  io.egosecure.benchmarks.FleetBenchmark "$@"
