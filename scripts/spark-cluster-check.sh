#!/usr/bin/env bash
# A Spark standalone cluster on 127.0.0.1, as a cluster user gets one: a master and two 1-core workers as separate
# JVMs, started from the Spark jars the spark module resolves, each worker with its own work, local and cache folders
# and nothing of projntk on its class path. On it, through bin/projntk-spark with only --master and the loopback
# driver address: featurize (trntk and margin), gram (none, cosine, std), similar and score, each output compared
# byte for byte with the single-process CLI; then featurize again with one executor killed (kill -9) mid-job, and
# the store compared again. Every step is bounded in time; every daemon is stopped by its PID at exit.
#
#   scripts/spark-cluster-check.sh            (KEEP=1 keeps the work folder; TRAIN, TEST, DIM set the sizes)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
java="$JAVA_HOME/bin/java"
[[ -x "$java" ]] || { echo "spark-cluster-check: needs Java 25 at JAVA_HOME ($JAVA_HOME)" >&2; exit 1; }
TRAIN="${TRAIN:-256}" TEST="${TEST:-64}" DIM="${DIM:-64}"
work="$(mktemp -d /tmp/projntk-spark-cluster.XXXXXX)"
t0=$(date +%s)
pids=()
say() { echo "== spark-cluster-check ($(( $(date +%s) - t0 )) s): $*"; }
fail() { echo "spark-cluster-check: FAILED: $*" >&2; exit 1; }
stop_daemons() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$p" 2>/dev/null || true
  done
  pids=()
}
cleanup() {
  local rc=$?
  stop_daemons
  if [[ $rc -ne 0 ]]; then
    for f in "$work"/*.log "$work"/w*/work/*/*/stderr; do
      [[ -f "$f" ]] && { echo "--- tail of $f" >&2; tail -n 25 "$f" >&2; }
    done
  fi
  if [[ -n "${KEEP:-}" ]]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "build: core jar and spark module jar"
timeout 900 make -s install > "$work/build.log" 2>&1 || fail "make install (see $work/build.log)"
timeout 600 mvn -B -q -f src/spark/pom.xml package -DskipTests >> "$work/build.log" 2>&1 || fail "spark module package"

say "Spark's own jars (the module's spark-sql version, nothing else), as a Spark home for the daemons"
spark_version=$(sed -n 's:.*<spark.version>\(.*\)</spark.version>.*:\1:p' src/spark/pom.xml)
mkdir -p "$work/spark-pom"
cat > "$work/spark-pom/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>org.projntk.check</groupId><artifactId>spark-daemons</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies><dependency><groupId>org.apache.spark</groupId><artifactId>spark-sql_2.13</artifactId>
    <version>$spark_version</version></dependency></dependencies>
</project>
POM
# the checkout's Maven settings (.mvn/maven.config, e.g. its local repository) also for the pom outside it
timeout 600 mvn -B -q $(cat .mvn/maven.config 2>/dev/null || true) -f "$work/spark-pom/pom.xml" dependency:build-classpath \
  -Dmdep.outputFile="$work/spark.classpath" >> "$work/build.log" 2>&1 || fail "resolving Spark's class path"
mkdir -p "$work/spark-home/jars"
tr ':' '\n' < "$work/spark.classpath" | while read -r jar; do ln -s "$jar" "$work/spark-home/jars/"; done
if ls "$work/spark-home/jars" | grep -qiE 'projntk|picocli'; then fail "projntk on the daemons' class path"; fi
spark_version=$(ls "$work/spark-home/jars" | sed -n 's/^spark-core_2.13-\(.*\)\.jar$/\1/p')
hadoop_version=$(ls "$work/spark-home/jars" | sed -n 's/^hadoop-client-api-\(.*\)\.jar$/\1/p')
say "Spark $spark_version, Hadoop $hadoop_version, $("$java" -version 2>&1 | head -1)"

# What Spark's launcher passes on Java 17+ (org.apache.spark.launcher.JavaModuleOptions, Spark 4.2)
opens=(-XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
  --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED -Dio.netty.tryReflectionSetAccessible=true
  --sun-misc-unsafe-memory-access=allow)

free_port() {
  local p
  for _ in $(seq 50); do
    p=$(( 20000 + RANDOM % 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  fail "no free port"
}
await_line() {   # FILE PATTERN SECONDS WHAT PID
  local end=$(( $(date +%s) + $3 ))
  until grep -q "$2" "$1" 2>/dev/null; do
    kill -0 "$5" 2>/dev/null || fail "$4: the process ended (see $1)"
    [[ $(date +%s) -lt $end ]] || fail "$4 within $3 s (see $1)"
    sleep 1
  done
}
daemon_env=(env -u CLASSPATH -u PROJNTK_NATIVE -u PROJNTK_CACHE SPARK_HOME="$work/spark-home" SPARK_LOCAL_IP=127.0.0.1
  JAVA_HOME="$JAVA_HOME" SPARK_SCALA_VERSION=2.13)

port=$(free_port)
say "master on spark://127.0.0.1:$port"
"${daemon_env[@]}" "$java" "${opens[@]}" -Xmx512m -cp "$work/spark-home/jars/*" org.apache.spark.deploy.master.Master \
  --host 127.0.0.1 --port "$port" --webui-port "$(free_port)" > "$work/master.log" 2>&1 &
pids+=($!)
await_line "$work/master.log" "I have been elected leader" 180 "the master did not start" "${pids[0]}"

# As root, the workers (and so their executors) run in a mount namespace of their own in which $work/hidden is an
# empty tmpfs: a folder the driver sees and the executors do not, for the shared-folder probe.
mkdir -p "$work/hidden"
hide=()
if [[ $(id -u) == 0 ]] && unshare -m --propagation private true 2> /dev/null; then
  hide=(unshare -m --propagation private sh -c 'mount -t tmpfs projntk-hidden "$0" && exec "$@"' "$work/hidden")
fi
worker_pids=()
for i in 1 2; do
  w="$work/w$i"
  mkdir -p "$w/work" "$w/local" "$w/cache" "$w/home"
  "${hide[@]}" "${daemon_env[@]}" HOME="$w/home" SPARK_LOCAL_DIRS="$w/local" XDG_CACHE_HOME="$w/cache" PROJNTK_CACHE="$w/cache" \
    "$java" "${opens[@]}" -Xmx512m -cp "$work/spark-home/jars/*" org.apache.spark.deploy.worker.Worker \
    --host 127.0.0.1 --cores 1 --memory 2g --work-dir "$w/work" --webui-port "$(free_port)" "spark://127.0.0.1:$port" \
    > "$work/worker$i.log" 2>&1 &
  pids+=($!)
  worker_pids+=($!)
done
for i in 1 2; do
  await_line "$work/worker$i.log" "Successfully registered with master" 180 "worker $i did not register" "${worker_pids[$((i - 1))]}"
done

# The driver: only the master URL and the loopback address (bin/projntk-spark names build/native/libprojntk.so, which
# the executors get through spark.executorEnv.PROJNTK_NATIVE; no projntk cache is forwarded).
cluster=(--master "spark://127.0.0.1:$port" --conf spark.driver.host=127.0.0.1)
driver_env=(env -u PROJNTK_CACHE -u PROJNTK_NATIVE)
timed() {   # NAME SECONDS COMMAND...: runs it, records its wall time, fails on a non-zero exit or a timeout
  local name=$1 limit=$2; shift 2
  local s e
  s=$(date +%s.%N)
  timeout --kill-after=15 "$limit" "$@" > "$work/$name.log" 2>&1 || fail "$name (exit $?, see $work/$name.log)"
  e=$(date +%s.%N)
  awk -v n="$name" -v s="$s" -v e="$e" 'BEGIN { printf "%-22s %7.2f s\n", n, e - s }' | tee -a "$work/times.txt"
}
same_tree() {   # EXPECTED ACTUAL WHAT
  diff -r "$1" "$2" > "$work/diff.txt" 2>&1 || { cat "$work/diff.txt" >&2; fail "$3: stores differ"; }
  [[ $(find "$1" -type f | wc -l) -ge 4 ]] || fail "$3: the reference store holds too few files"
}
same_file() { cmp "$1" "$2" || fail "$3: $1 and $2 differ"; }

data=(--train "fashion-mnist:train[0:$TRAIN]" --test "fashion-mnist:test[0:$TEST]" --model builtin:cnn-fmnist --dim "$DIM"
  --batch 32 --checkpoint ck0)
s="$work/single" c="$work/cluster"
mkdir -p "$s" "$c"

say "single process: featurize trntk and margin, gram none/cosine/std, similar, score"
timed single-featurize 600 bin/projntk featurize "${data[@]}" --kernel trntk --out "$s/trntk"
timed single-margin 600 bin/projntk featurize "${data[@]}" --kernel margin --out "$s/margin"
for n in none cosine std; do
  timed "single-gram-$n" 300 bin/projntk gram --store "$s/trntk" --rows train --cols test --normalize "$n" --out "$s/gram-$n.npy"
done
timed single-similar 300 bin/projntk similar --store "$s/trntk" --top 5 --out "$s/similar"
timed single-score 300 bin/projntk score --store "$s/margin" --lambda 0.01 --out "$s/scores.npy"

say "cluster: the same commands through bin/projntk-spark ${cluster[*]}"
timed cluster-featurize 900 "${driver_env[@]}" bin/projntk-spark featurize "${cluster[@]}" "${data[@]}" --kernel trntk --out "$c/trntk"
same_tree "$s/trntk" "$c/trntk" "featurize trntk"
timed cluster-margin 900 "${driver_env[@]}" bin/projntk-spark featurize "${cluster[@]}" "${data[@]}" --kernel margin --out "$c/margin"
same_tree "$s/margin" "$c/margin" "featurize margin"
for n in none cosine std; do
  timed "cluster-gram-$n" 300 "${driver_env[@]}" bin/projntk-spark gram "${cluster[@]}" --store "$c/trntk" --rows train --cols test \
    --normalize "$n" --out "$c/gram-$n.npy"
  same_file "$s/gram-$n.npy" "$c/gram-$n.npy" "gram $n"
done
timed cluster-similar 300 "${driver_env[@]}" bin/projntk-spark similar "${cluster[@]}" --store "$c/trntk" --top 5 --out "$c/similar"
same_file "$s/similar/similar.csv" "$c/similar/similar.csv" "similar"
timed cluster-score 300 "${driver_env[@]}" bin/projntk-spark score "${cluster[@]}" --store "$c/margin" --lambda 0.01 --out "$c/scores.npy"
same_file "$s/scores.npy" "$c/scores.npy" "score"

say "cluster: gram cosine through spark-submit (org.apache.spark.deploy.SparkSubmit), the docs' recipe"
timed submit-gram-cosine 300 "${driver_env[@]}" "$java" "${opens[@]}" -cp "$work/spark-home/jars/*" org.apache.spark.deploy.SparkSubmit \
  --master "spark://127.0.0.1:$port" --conf spark.driver.host=127.0.0.1 --class org.projntk.spark.cli.SparkCommand \
  --driver-java-options "--enable-native-access=ALL-UNNAMED" --jars "target/projntk-0.1.0.jar,$(ls target/lib/picocli-*.jar)" \
  src/spark/target/projntk-spark-0.1.0.jar gram --store "$c/trntk" --rows train --cols test --normalize cosine --out "$c/submit-gram.npy"
same_file "$s/gram-cosine.npy" "$c/submit-gram.npy" "spark-submit gram cosine"

if [[ ${#hide[@]} -gt 0 ]]; then
  say "cluster: an output folder the executors do not see stops the job at start, with one line"
  set +e
  timeout --kill-after=15 300 "${driver_env[@]}" bin/projntk-spark gram "${cluster[@]}" --store "$c/trntk" --rows train --cols test \
    --out "$work/hidden/K.npy" > "$work/cluster-hidden.log" 2>&1
  rc=$?
  set -e
  [[ $rc -eq 1 ]] || fail "a hidden output folder: exit $rc, expected 1 (see $work/cluster-hidden.log)"
  [[ $(grep -c "output folder $work/hidden is not visible to the executors" "$work/cluster-hidden.log") -eq 1 ]] \
    || fail "a hidden output folder: no one-line message (see $work/cluster-hidden.log)"
  [[ ! -e "$work/hidden/K.npy" && ! -e "$work/hidden/K.npy.tmp" ]] || fail "a hidden output folder: the job wrote output"
  grep "is not visible" "$work/cluster-hidden.log"
else
  say "not root (or no unshare): the hidden-folder probe check is skipped"
fi

say "cluster: a TorchScript model the executors do not see (Spark's distributed files), relative paths on the driver"
model="$work/hidden/model.pt"   # hidden from the executors when the workers run in their own mount namespace
timed train-model 300 bin/projntk train --model builtin:cnn-fmnist --data 'fashion-mnist:train[0:64]' --epochs 1 --out "$model"
fm="${PROJNTK_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}"
idx() { echo "idx:$1/$2-images-idx3-ubyte.gz,$1/$2-labels-idx1-ubyte.gz[0:$3]"; }
rel() { realpath -m --relative-to="$here" "$1"; }
shipped=(--kernel pntk --dim 32 --batch 16 --checkpoint ck0)
timed single-shipped 300 bin/projntk featurize "${shipped[@]}" --model "$model" --train "$(idx "$fm" train 96)" \
  --test "$(idx "$fm" t10k 32)" --out "$s/shipped"
timed cluster-shipped 600 "${driver_env[@]}" bin/projntk-spark featurize "${cluster[@]}" "${shipped[@]}" --model "$(rel "$model")" \
  --train "$(idx "$(rel "$fm")" train 96)" --test "$(idx "$(rel "$fm")" t10k 32)" --out "$(rel "$c/shipped")"
same_tree "$s/shipped" "$c/shipped" "featurize with a shipped model and relative paths"

say "cluster: featurize with worker 1's executor killed (kill -9) mid-job"
"${driver_env[@]}" timeout --kill-after=15 900 bin/projntk-spark featurize "${cluster[@]}" "${data[@]}" --kernel trntk \
  --out "$c/killed" > "$work/cluster-killed.log" 2>&1 &
driver=$!
# The executor dies while the job's tasks run: as soon as the driver has started its first task and worker 1 has an
# executor (a small job's tasks last a few seconds in all, so no fixed delay would land inside them).
end=$(( $(date +%s) + 300 ))
executor=""
until [[ -n "$executor" ]] && grep -q "Starting task" "$work/cluster-killed.log"; do
  kill -0 "$driver" 2>/dev/null || fail "the featurize job ended before an executor could be killed (see $work/cluster-killed.log)"
  [[ $(date +%s) -lt $end ]] || fail "no task of the featurize job started on the cluster within 300 s"
  executor=$(pgrep -P "${worker_pids[0]}" -f CoarseGrainedExecutorBackend | head -1 || true)
  sleep 0.1
done
kill -0 "$driver" 2>/dev/null || fail "the featurize job ended before the executor was killed"
kill -9 "$executor"
say "killed executor $executor of worker 1"
wait "$driver" || fail "featurize with a killed executor (exit $?, see $work/cluster-killed.log)"
grep -q "rows done" "$work/cluster-killed.log" || fail "featurize with a killed executor printed no result"
grep -qE "Lost executor|Executor lost|ExecutorLostFailure" "$work/cluster-killed.log" ||
  fail "the driver never saw executor $executor lost: the job finished before the kill (see $work/cluster-killed.log)"
same_tree "$s/trntk" "$c/killed" "featurize with a killed executor"

stop_daemons
say "all outputs byte-identical to the single process (Spark $spark_version, Hadoop $hadoop_version); wall times:"
cat "$work/times.txt"
