#!/usr/bin/env bash
# Conditional polls (304) per second and p99 over TLS: the EgoSecure server against nginx serving
# a static file of the same size with ETag, and against a bare Jetty handler with the same TLS
# settings (the baseline of what Jetty and the JDK's TLS do here), in the same run, on loopback
# only. Bounded in time.
#
#   mvn -q -B install -DskipTests && benchmarks/poll-vs-nginx.sh [seconds per measurement]
#
# Needs nginx, wrk and openssl (apt-get install nginx-light wrk). Prints a table for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-15}
CONNECTIONS=${CONNECTIONS:-32}
EGO_PORT=${EGO_PORT:-18443}
NGINX_PORT=${NGINX_PORT:-18444}
work=$(mktemp -d /tmp/egosecure-bench.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -keyout "$work/bench.key" -out "$work/bench.crt" -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null

mvn -q -B ${MAVEN_ARGS:-} -pl benchmarks dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" >/dev/null
# BENCH_JAVA_OPTS: JVM flags for the server JVM (GC, -Dbench.ioThreads=N, -Dbench.acceptors=N).
java -Xmx1g ${BENCH_JAVA_OPTS:-} -cp "benchmarks/target/classes:$(cat "$work/cp.txt")" \
  io.egosecure.benchmarks.PollBenchmarkServer "$work" "$EGO_PORT" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 60); do [ -f "$work/url" ] && break; sleep 0.5; done
[ -f "$work/url" ] || { cat "$work/server.log"; exit 1; }

cat > "$work/nginx.conf" <<NGINX
user root;
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $work/bench.crt;
    ssl_certificate_key $work/bench.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location = /poll.json { root $work; etag on; default_type application/json; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5

ego_url=$(cat "$work/url")
ego_etag=$(cat "$work/etag")
credential=$(cat "$work/credential")
nginx_url="https://127.0.0.1:$NGINX_PORT/poll.json"
nginx_etag=$(curl -sk -o /dev/null -D - "$nginx_url" | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')

measure() { # label url etag extra-header...
  local label=$1 url=$2 etag=$3; shift 3
  local out
  out=$(wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency -H "If-None-Match: $etag" "$@" "$url")
  local rps p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx/ {print $5} /Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
  printf '%-28s %12s req/s   p99 %8s   %s\n' "$label" "$rps" "$p99" "${errors:-no errors}"
}

auth=(-H "Authorization: Bearer $credential")
echo "body: $(stat -c %s "$work/poll.json") bytes; wrk -t1 -c$CONNECTIONS -d${SECONDS_EACH}s; $(nproc) cores; $(date -u +%FT%TZ); load before $(cut -d' ' -f1-3 /proc/loadavg); server JVM: ${BENCH_JAVA_OPTS:-defaults}"
wrk -t1 -c"$CONNECTIONS" -d5s -H "If-None-Match: $ego_etag" "${auth[@]}" "$ego_url" >/dev/null  # JIT warm-up
wrk -t1 -c"$CONNECTIONS" -d2s -H "If-None-Match: $nginx_etag" "$nginx_url" >/dev/null
bare_url="https://127.0.0.1:$((EGO_PORT + 2))/"
conscrypt_url="https://127.0.0.1:$((EGO_PORT + 4))/v1/agent/policies"
wrk -t1 -c"$CONNECTIONS" -d2s -H "If-None-Match: $ego_etag" "$bare_url" >/dev/null
wrk -t1 -c"$CONNECTIONS" -d5s -H "If-None-Match: $ego_etag" "${auth[@]}" "$conscrypt_url" >/dev/null
# Handshake code is JIT-compiled only once new connections arrive: warm it too, or the first
# new-connection measurement (bare Jetty's) pays for everyone's warm-up.
wrk -t1 -c"$CONNECTIONS" -d4s -H "If-None-Match: $ego_etag" "${auth[@]}" -H "Connection: close" "$ego_url" >/dev/null
wrk -t1 -c"$CONNECTIONS" -d4s -H "If-None-Match: $ego_etag" "${auth[@]}" -H "Connection: close" "$conscrypt_url" >/dev/null
measure "nginx keep-alive 304" "$nginx_url" "$nginx_etag"
measure "bare Jetty keep-alive 304" "$bare_url" "$ego_etag"
measure "egosecure keep-alive 304" "$ego_url" "$ego_etag" "${auth[@]}"
measure "egosecure+conscrypt k-a 304" "$conscrypt_url" "$ego_etag" "${auth[@]}"
measure "nginx new-connection 304" "$nginx_url" "$nginx_etag" -H "Connection: close"
measure "bare Jetty new-connection" "$bare_url" "$ego_etag" -H "Connection: close"
measure "egosecure new-connection 304" "$ego_url" "$ego_etag" "${auth[@]}" -H "Connection: close"
measure "egosecure+conscrypt new-conn" "$conscrypt_url" "$ego_etag" "${auth[@]}" -H "Connection: close"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
