#!/usr/bin/env bash
# Runs the JMH benchmarks (benchmarks/target/benchmarks.jar) and renders their report.
#   scripts/bench.sh quick   a few minutes: small P, 4 values of K, short iterations
#   scripts/bench.sh full    about 15-20 minutes on 2 cores: the full K sweep, B and P sweeps, ResNet-18 gradients
#   scripts/bench.sh gpu     the CUDA projectors only (GPU machine; on a CPU build they fail with UNSUPPORTED)
# Writes benchmarks/results/SET-*.json (JMH), SET-machine.json (FMA peak and memory bandwidth, benchmarks/native/machine.c),
# SET-version.txt, projection-vs-k.png, and regenerates the bench-SET section of docs/performance.md.
# Environment: JAVA_HOME (JDK >= 25), PROJNTK_NATIVE (default build/native/libprojntk.so), JMH_EXTRA (more JMH options).
set -euo pipefail
cd "$(dirname "$0")/.."
set_name="${1:-}"
case "$set_name" in quick|full|gpu) ;; *) echo "usage: scripts/bench.sh quick|full|gpu" >&2; exit 2 ;; esac

# A JDK when there is one (the report's plot needs java.desktop); the device bundle's runtime on the GPU machine
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
[[ ! -x $java && -x device-bundle/jre/bin/java ]] && java=device-bundle/jre/bin/java
"$java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])' || { echo "bench.sh: $java is not Java >= 25: set JAVA_HOME" >&2; exit 1; }
jar="${BENCH_JAR:-benchmarks/target/benchmarks.jar}"
[[ -f $jar ]] || { echo "bench.sh: $jar is missing: run 'make bench-quick' (or build it: mvn install -DskipTests; mvn -f benchmarks/pom.xml package)" >&2; exit 1; }
native="${PROJNTK_NATIVE:-}"
if [[ -z $native ]]; then
  for c in device-bundle/native/libprojntk.so build/native/libprojntk.so; do [[ -f $c ]] && { native=$c; break; }; done
fi
[[ -n $native && -f $native ]] || { echo "bench.sh: libprojntk.so not found: run 'make native' or set PROJNTK_NATIVE" >&2; exit 1; }
native=$(realpath "$native")

out=benchmarks/results
mkdir -p "$out"
rm -f "$out/$set_name"-*.json "$out/$set_name"-version.txt
cores=$(nproc)
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$cores}"
export PROJNTK_THREADS="${PROJNTK_THREADS:-$cores}"   # libtorch threads (the library leaves them alone otherwise)
jvm="--enable-native-access=ALL-UNNAMED -Djava.awt.headless=true -Dprojntk.native=$native -Xmx4g"
t0=$(date +%s)

# jmh NAME CLASS [JMH options...]: one JMH run, JSON into $out/$set_name-NAME.json; stops at the first failing
# benchmark, except on the GPU set, where one failing projector should not hide the others
foe=true
[[ $set_name == gpu ]] && foe=false
jmh() {
  local name=$1 cls=$2
  shift 2
  echo "== [$(( $(date +%s) - t0 ))s] $set_name-$name: $cls $*"
  # -jvmArgsAppend replaces the @Fork annotation's, so it repeats the native-access flag
  # shellcheck disable=SC2086
  "$java" $jvm -jar "$jar" "^org\.projntk\.bench\.$cls\." -jvmArgsAppend "$jvm" -rf json -rff "$out/$set_name-$name.json" \
    -foe "$foe" "$@" ${JMH_EXTRA:-}
}

if [[ $set_name != gpu ]]; then
  echo "== machine limits (benchmarks/native/machine.c)"
  mkdir -p benchmarks/target
  gcc -O3 -fopenmp -mavx2 -mfma benchmarks/native/machine.c -o benchmarks/target/machine
  if [[ $set_name == quick ]]; then benchmarks/target/machine 512 3; else benchmarks/target/machine 1024 5; fi \
    | tee "$out/$set_name-machine.json"
fi
PROJNTK_NATIVE="$native" bin/projntk version > "$out/$set_name-version.txt" 2>&1 || echo "(projntk version failed)" >> "$out/$set_name-version.txt"
lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket)' >> "$out/$set_name-version.txt" || true
# The host kind (cpu family 25 = Zen 4, 26 = Zen 5 on AMD) and the date: docs/performance.md never compares figures across them.
awk -F': *' '/^cpu family/ {print "CPU family:                              " $2; exit}' /proc/cpuinfo >> "$out/$set_name-version.txt" || true
echo "Measured (UTC):                          $(date -u +%F)" >> "$out/$set_name-version.txt"

case "$set_name" in
quick)
  it=(-f 1 -wi 1 -w 500ms -i 5 -r 500ms)
  jmh projection ProjectionBench "${it[@]}" -p P=16384 -p B=32 -p K=256,1024,4096,16384
  jmh gradient GradientBench "${it[@]}" -p model=cnn-fmnist -p B=32
  jmh gram GramBench "${it[@]}" -p N=2048 -p D=512
  ;;
full)
  it=(-f 1 -wi 1 -w 1s -i 4 -r 1s)
  jmh projection-k ProjectionBench "${it[@]}" -p P=65536 -p B=32
  jmh projection-b ProjectionBench "${it[@]}" -p P=65536 -p K=2048 -p B=1,8,128
  jmh projection-p ProjectionBench -f 1 -wi 1 -w 1s -i 3 -r 1s -p B=32 -p K=2048 -p P=16384,262144,1048576
  jmh gradient-cnn GradientBench "${it[@]}" -p model=cnn-fmnist -p B=64
  jmh gradient-resnet GradientBench -f 1 -wi 1 -w 1s -i 3 -r 1s -p model=resnet18-cifar -p B=8
  jmh gram GramBench "${it[@]}" -p N=4096 -p D=1024
  ;;
gpu)
  jmh projection GpuProjectionBench -f 1 -wi 2 -w 1s -i 3 -r 1s ${GPU_BENCH_PARAMS:-}
  ;;
esac

echo "== [$(( $(date +%s) - t0 ))s] report"
"$java" -Djava.awt.headless=true -cp "$jar" org.projntk.bench.Report "$out" "$set_name" docs/performance.md
echo "== done in $(( $(date +%s) - t0 ))s"
