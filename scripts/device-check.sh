#!/usr/bin/env bash
# The GPU check, in one call of the device tool, and its rehearsal on a CPU machine.
#
#   scripts/device-check.sh OUTDIR              on the GPU machine (python3 + PyTorch with CUDA, nvcc, no Java, no
#                                               network), from the repository root, with device-bundle/ carried there
#                                               (make device-bundle). Builds libprojntk.so against that PyTorch with the
#                                               CUDA kernels, runs the native GPU tests (with the bytes copied between
#                                               host and device per batch), the gpu-tagged JUnit tests and the GPU
#                                               benchmarks, in under 8 minutes on 16 cores, and writes
#                                               benchmarks/results/gpu-<device>-<date>.json (also into OUTDIR).
#   scripts/device-check.sh --rehearse OUTDIR   on this CPU machine: every step that needs no GPU (the bundle and the
#                                               64 MiB payload, the bundled JRE running the CPU test classes, the
#                                               WITH_CUDA=1 objects compiled by nvcc, the torch sources compiled against
#                                               libtorch 2.x), then every GPU step with the exact command it will run.
#
# A failed step prints the tail of its log and the run goes on to the next step; the exit status is 1 if any failed.
# The device tool brings back at most 8 files from $OUT, so the logs come back packed as OUTDIR/logs.tgz.
set -uo pipefail
rehearse=0
if [[ "${1:-}" == --rehearse ]]; then rehearse=1; shift; fi
out="${1:?usage: scripts/device-check.sh [--rehearse] OUTDIR}"
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
exec > >(tee "$out/device-check.log") 2>&1
t0=$(date +%s)
# The real run stops starting steps once this many seconds have passed, and clips each step's timeout to what is left.
budget_s=${DEVICE_CHECK_BUDGET_S:-450}
failed=()
rm -f "$out/steps.txt"   # "NAME ok|failed|skipped SECONDS" per step, for the summary

elapsed() { echo $(( $(date +%s) - t0 )); }

# step NAME CAP_S COMMAND: runs COMMAND (one bash command line) with its output in logs/NAME.log; prints its tail.
step() {
  local name=$1 cap=$2 cmd=$3 log="$out/logs/$1.log" left start rc
  if (( rehearse == 0 )); then
    left=$(( budget_s - $(elapsed) ))
    if (( left < 5 )); then
      echo "== [$(elapsed)s] $name: SKIPPED (the ${budget_s}s budget is spent)"
      failed+=("$name"); echo "$name skipped 0" >> "$out/steps.txt"; return
    fi
    (( cap > left )) && cap=$left
  fi
  echo "== [$(elapsed)s] $name (at most ${cap}s): $cmd"
  start=$(date +%s)
  timeout --kill-after=10 "$cap" bash -c "$env_setup $cmd" > "$log" 2>&1
  rc=$?
  local took=$(( $(date +%s) - start ))
  if (( rc == 0 )); then
    tail -n "${tail_lines:-5}" "$log"
    echo "-- $name: ok in ${took}s"
    echo "$name ok $took" >> "$out/steps.txt"
  else
    echo "-- $name: FAILED (exit $rc$( (( rc == 124 || rc == 137 )) && echo ', timed out')) after ${took}s; last lines of logs/$name.log:"
    tail -n 25 "$log" | sed 's/^/   | /'
    failed+=("$name"); echo "$name failed $took" >> "$out/steps.txt"
  fi
}

# gpu_step NAME CAP_S COMMAND: a step that needs the GPU machine; the rehearsal prints it instead of running it.
gpu_step() {
  if (( rehearse )); then
    echo "== GPU step $1 (at most $2s on the device): $3"
    return
  fi
  step "$@"
}

# Everything a GPU step needs from the machine, resolved there: PyTorch's CUDA runtime, cuBLAS and cuRAND libraries
# (pip's nvidia-* packages, else /usr/local/cuda) and the bundled JRE. Each GPU step's command runs after this.
# The link needs an unversioned libcudart.so: the toolkit's when it has one (pip's wheels ship only libcudart.so.13).
# libtorch 2.12 and later need C++20.
gpu_env='site=$(python3 -c "import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))");
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc); cuda_home=$(dirname "$(dirname "$nvcc")");
if [[ -e $cuda_home/lib64/libcudart.so ]]; then cuda_lib=$cuda_home/lib64; else cudart=$(find "$site/nvidia" -name "libcudart.so*" 2>/dev/null | head -1); cuda_lib=${cudart:+$(dirname "$cudart")}; fi;
cxx_std=$(python3 -c "import torch; v = tuple(int(p) for p in torch.__version__.split(\"+\")[0].split(\".\")[:2]); print(\"c++20\" if v >= (2, 12) else \"c++17\")");
for l in libcublas libcurand; do d=$(find "$site/nvidia" -name "$l.so*" 2>/dev/null | head -1); [[ -n $d ]] && LD_LIBRARY_PATH=$(dirname "$d"):${LD_LIBRARY_PATH:-}; done;
export NVCC=$nvcc CUDA_HOME=$cuda_home CUDA_LIB=$cuda_lib CXX_STD=$cxx_std LD_LIBRARY_PATH=$cuda_lib:${LD_LIBRARY_PATH:-} PROJNTK_NATIVE=$PWD/device-bundle/native/libprojntk.so JAVA_HOME=$PWD/device-bundle/jre;
java=device-bundle/jre/bin/java; jopts="--enable-native-access=ALL-UNNAMED -Djava.awt.headless=true -Dprojntk.native=$PROJNTK_NATIVE";'
# The test classes the bundled JRE cannot load (device-bundle/test-excludes.txt), as the launcher's exclusions.
exclude_setup='excluded=$(sed "s/^/--exclude-classname ^/; s/\./\\\\./g; s/\$/\$/" device-bundle/test-excludes.txt | tr "\n" " ");'
env_setup="$exclude_setup"
(( rehearse == 0 )) && env_setup="$gpu_env $exclude_setup"

if (( rehearse )); then
  echo "== device-check rehearsal on $(hostname) ($(nproc) cores), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  : "${JAVA_HOME:=/usr/lib/jvm/temurin-25-jdk-amd64}"
  export JAVA_HOME
  tail_lines=3 step bundle 1800 'make -s device-bundle'

  # The JRE that travels, unpacked as the device unpacks it, running what the CPU build can run: every test class but
  # the gpu-tagged ones, on the JVM class path (child JVMs inherit it), less the classes that need a module the bundle
  # leaves out to fit 64 MiB (device-bundle/test-excludes.txt). Commands that draw a PNG need java.desktop too: those
  # failures (NoClassDefFoundError: java/awt/...) are counted, and any other failure fails the step.
  jre="$out/jre"
  tail_lines=14 step bundled-jre 3600 "rm -rf '$jre' && tar xzf device-bundle/jre.tgz -C '$out' && '$jre/bin/java' -version \
&& '$jre/bin/java' --enable-native-access=ALL-UNNAMED -Djava.awt.headless=true -Dprojntk.native=build/native/libprojntk.so \
-cp 'device-bundle/lib/*' org.projntk.cli.Main version \
&& { OMP_NUM_THREADS=2 PROJNTK_THREADS=2 '$jre/bin/java' --enable-native-access=ALL-UNNAMED -Djava.awt.headless=true -Xmx6g \
-Dprojntk.native=build/native/libprojntk.so -cp \"\$(ls device-bundle/test-lib/*.jar):device-bundle/test-classes:\$(ls device-bundle/lib/*.jar | tr '\\n' ':')\" \
org.junit.platform.console.ConsoleLauncher execute --scan-class-path --exclude-tag gpu \$excluded --disable-banner --details=summary \
--reports-dir '$out/junit-cpu' > '$out/junit-cpu.txt' 2>&1; \
failed=\$(grep -oE '[0-9]+ tests failed' '$out/junit-cpu.txt' | grep -oE '[0-9]+'); \
containers=\$(grep -oE '[0-9]+ containers failed' '$out/junit-cpu.txt' | grep -oE '[0-9]+'); \
desktop=\$(grep -c '=> java.lang.NoClassDefFoundError: java/awt' '$out/junit-cpu.txt'); \
grep -B1 -A2 -E 'MethodSource|ClassSource' '$out/junit-cpu.txt' | grep -v 'java/awt' | grep -E 'Source|=>' | grep -B1 '=>' | head -40; \
grep -E '(tests|containers) (found|successful|failed|aborted)' '$out/junit-cpu.txt'; \
echo \"\$(wc -l < device-bundle/test-excludes.txt) classes not loaded; \${failed:-?} tests failed, \$desktop of them drawing a PNG\"; \
[[ -n \$failed && \$containers == 0 ]] && (( failed == desktop )); }"

  # The objects that differ under WITH_CUDA=1 (the .cu kernels, and the C++ sources with PROJNTK_WITH_CUDA sections),
  # compiled by nvcc 13 and g++ against this machine's libtorch, in their own build folder; linking needs libtorch_cuda.
  if [[ -x "${NVCC:-/usr/local/cuda/bin/nvcc}" ]]; then
    tail_lines=3 step nvcc-objects 1800 'make -s BUILD=build/rehearse-cuda WITH_CUDA=1 -j2 native-objects-cuda && \
ls build/rehearse-cuda/native/cuobj/jl build/rehearse-cuda/native/obj/*'
  else
    echo "== nvcc-objects: SKIPPED (no nvcc at /usr/local/cuda/bin/nvcc)"
    echo "nvcc-objects skipped 0" >> "$out/steps.txt"
  fi

  # The torch sources against libtorch 2.6 (Debian 13), in the lead's chroot, only when it has been made.
  chroot_dir=${PROJNTK_CHROOT:-/var/cache/projntk/debian13}
  torch_h=$chroot_dir/usr/include/torch/csrc/api/include/torch/torch.h
  if [[ ! -f $chroot_dir/.projntk-stamp ]]; then
    echo "== torch2-objects: SKIPPED (no Debian 13 chroot: $chroot_dir/.projntk-stamp is missing; scripts/debian13-chroot.sh ensure makes it)"
    echo "torch2-objects skipped 0" >> "$out/steps.txt"
  elif [[ ! -f $torch_h ]]; then
    echo "== torch2-objects: SKIPPED (the Debian 13 chroot has no libtorch-dev yet: $torch_h is missing; a make deps inside it installs it)"
    echo "torch2-objects skipped 0" >> "$out/steps.txt"
  else
    b=build/rehearse-torch2
    tail_lines=3 step torch2-objects 3600 "mkdir -p $b && printf '%s\n' 'TORCH_ROOT=/usr' 'TORCH_INC=-isystem /usr/include/torch/csrc/api/include' \
'TORCH_LIB=/usr/lib/x86_64-linux-gnu' 'TORCH_ABI=1' 'TORCH_CUDA=0' > $b/torch.mk && \
scripts/debian13-chroot.sh run '$PWD' bash -c 'g++ --version | head -1; grep -h TORCH_VERSION /usr/include/torch/csrc/api/include/torch/version.h | head -3; \
make -s -o $b/torch.mk BUILD=$b -j2 native-objects-torch'"
  fi

  echo
  echo "== The real run: the steps below run on the GPU machine, after this environment set-up (resolved there):"
  echo "$gpu_env"
fi

# ------------------------------------------------------------------------------------------------ the GPU steps
gpu_step machine 30 'nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee '"$out"'/gpu.csv;
python3 -c "import torch; print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, torch.cuda.is_available())" | tee '"$out"'/torch.txt;
tar xzf device-bundle/jre.tgz -C device-bundle && device-bundle/jre/bin/java -version'

# build/torch.mk is written here and never remade (make -o): its rule would call apt-get, and the machine has no network.
gpu_step build 240 'rm -rf build/native build/torch.mk && mkdir -p build && LIBTORCH_USE_PYTORCH=1 scripts/find-libtorch.sh > build/torch.mk &&
LIBTORCH_USE_PYTORCH=1 make -s -o build/torch.mk -j"$(nproc)" native native-test-bins WITH_CUDA=1 NVCC="$NVCC" CUDA_HOME="$CUDA_HOME" CUDA_LIB="$CUDA_LIB" CXX_STD="$CXX_STD" &&
mkdir -p device-bundle/native && cp build/native/libprojntk.so device-bundle/native/ && bin/projntk version'

# The native tests run their CUDA sections here; test_torch prints the bytes copied between host and device per batch.
gpu_step native-tests 90 'rc=0; for t in build/native/tests/*; do echo "-- $t"; OMP_NUM_THREADS=8 timeout 60 "$t" || rc=1; done; exit $rc'

gpu_step projection-bench 60 'bin/projntk bench projection --device cuda --P 1000000 --B 64 --K 2048,8192,16384 \
--proj rademacher,sjlt,curand,sgemm-precomputed > '"$out"'/projection-gpu.jsonl && cat '"$out"'/projection-gpu.jsonl'

gpu_step gradient-bench 45 'bin/projntk bench gradient --device cuda --model builtin:resnet18-cifar --B 32,128 \
--grad functional,iterative > '"$out"'/gradient-gpu.jsonl && cat '"$out"'/gradient-gpu.jsonl'

gpu_step junit-gpu 120 '"$java" $jopts -cp "$(ls device-bundle/test-lib/*.jar):device-bundle/test-classes:$(ls device-bundle/lib/*.jar | tr "\n" ":")" \
org.junit.platform.console.ConsoleLauncher execute --scan-class-path --include-tag gpu $excluded --disable-banner --details=summary \
--reports-dir '"$out"'/junit-gpu'

gpu_step jmh-gpu 90 'BENCH_JAR=device-bundle/lib/benchmarks.jar.bench GPU_BENCH_PARAMS="-p K=2048,8192" \
JMH_EXTRA="-f 1 -wi 1 -i 2 -w 1s -r 1s" scripts/bench.sh gpu; ls benchmarks/results/gpu-*.json'

# The summary JSON (python3 is the one thing besides the GPU the device offers that this needs).
gpu_step summary 20 "python3 scripts/device-summary.py '$out' benchmarks/results && cp benchmarks/results/gpu-*-????-??-??.json '$out'/"

if (( rehearse == 0 )); then
  # What comes back: device-check.log, the summary JSON and logs.tgz with everything else (the tool returns 8 files).
  (cd "$out" && tar czf logs.tgz logs $(ls -d junit-* gpu.csv torch.txt ./*.jsonl steps.txt 2>/dev/null) \
    && rm -rf logs junit-* gpu.csv torch.txt ./*.jsonl steps.txt)
fi
echo "== [$(elapsed)s] done: ${#failed[@]} step(s) failed${failed[*]:+: ${failed[*]}}"
(( ${#failed[@]} == 0 ))
