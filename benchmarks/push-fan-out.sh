#!/usr/bin/env bash
# Push fan-out, re-poll and parked long polls against the real HTTPS server over TLS, loopback
# only, bounded in time (see PushFanOutBenchmark). The server runs in a JVM of its own.
#
#   mvn -q -B install -DskipTests -DskipITs && benchmarks/push-fan-out.sh [agents] [parked] [memory|sqlite]
#
# SERVER_HEAP (default 1g) sizes the server JVM; the client JVM gets 2g. BENCH_JAVA_OPTS passes
# system properties (see PushFanOutBenchmark's Javadoc), among them:
#   -Dagents.core=true       the simulated agents on Jetty's WebSocket core (cheaper per message):
#                            they stand for thousands of machines, so their CPU on these shared
#                            cores is not the server's; adds a publish timed while they read nothing
#   -Dclient.tls=conscrypt   the agents' TLS on Conscrypt; up to about 6,000 agents (a Conscrypt
#                            connection holds two more descriptors, a process may open 20,000)
#   -Dserver.tls=conscrypt   the server's TLS on Conscrypt, same bound (default: the JDK's, the headline)
# Each publish prints the agents' receipt (p50/p99/max after the commit) and the server's own
# broadcast time (its egosecure.push.broadcast timer: hub told -> last frame written).
set -euo pipefail
cd "$(dirname "$0")/.."
cp_file=$(mktemp /tmp/egosecure-push-cp.XXXXXX)
trap 'rm -f "$cp_file"' EXIT
mvn -q -B ${MAVEN_ARGS:-} -pl benchmarks dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
# The agents skip the host-name check (see PushFanOutBenchmark); Jetty would warn once per client.
java -Xmx2g -Dorg.slf4j.simpleLogger.log.org.eclipse.jetty.util.ssl.SslContextFactory.config=error \
  ${BENCH_JAVA_OPTS:-} -Dserver.heap="${SERVER_HEAP:-1g}" -cp "benchmarks/target/classes:$(cat "$cp_file")" \
  io.egosecure.benchmarks.PushFanOutBenchmark "${1:-10000}" "${2:-10000}" "${3:-memory}"
