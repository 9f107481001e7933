#!/usr/bin/env bash
# Load test of examples/server, the HTTP service that embeds projntk: builds it against the installed jar (`make
# install` first) from outside this checkout, featurizes a small Fashion-MNIST store with the CLI, writes the CLI's
# own answers (`projntk similar`), starts the server on 127.0.0.1 and drives it from 16 concurrent clients
# (examples/server/LoadTest.java), bounded in time and in requests. Every answer must equal `projntk similar` for the
# same test row; 5 kinds of bad request must each get a 4xx with a one-line reason while the server keeps serving.
# Prints requests/s, p50/p99 latency, errors and the server's peak RSS. Exit 0 only if all of that holds.
#   scripts/load-test.sh [SECONDS] [MAX_REQUESTS]     (defaults: 60 s, 20000 requests)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
seconds="${1:-60}"
max_requests="${2:-20000}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cp -r "$root/examples/server" "$work/server"
(cd "$work/server" && mvn -B -q ${PROJNTK_MAVEN_REPO:+-Dmaven.repo.local=$PROJNTK_MAVEN_REPO} package dependency:copy-dependencies \
  -DoutputDirectory=target/modules)

"$root/bin/projntk" featurize --model builtin:cnn-fmnist --train 'fashion-mnist:train[0:500]' --test 'fashion-mnist:test[0:40]' \
  --kernel trntk --dim 256 --seed 42 --batch 20 --out "$work/store" >/dev/null
"$root/bin/projntk" similar --store "$work/store" --top 5 --images 0 --out "$work/similar" >/dev/null

unset PROJNTK_NATIVE
"$JAVA_HOME/bin/java" --enable-native-access=org.projntk -Djava.awt.headless=true \
  --module-path "$work/server/target/server-example.jar:$work/server/target/modules" \
  -m org.projntk.server/org.projntk.server.Server --store "$work/store" --port 0 --port-file "$work/port" --threads 16 \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
  [[ -s "$work/port" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then echo "load test: the server exited:" >&2; cat "$work/server.log" >&2; exit 1; fi
  sleep 0.1
done
[[ -s "$work/port" ]] || { echo "load test: the server did not start within 60 s" >&2; cat "$work/server.log" >&2; exit 1; }
port=$(tr -d '[:space:]' <"$work/port")

status=0
timeout $(( seconds + 120 )) "$JAVA_HOME/bin/java" "$root/examples/server/LoadTest.java" --port "$port" --clients 16 \
  --seconds "$seconds" --max-requests "$max_requests" --pid "$server_pid" --expected "$work/similar/similar.csv" \
  --example-size 784 || status=$?
if ! kill -0 "$server_pid" 2>/dev/null; then echo "load test: the server died:" >&2; cat "$work/server.log" >&2; exit 1; fi
exit "$status"
