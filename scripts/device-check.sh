#!/usr/bin/env bash
# Runs on the GPU machine (python3 + PyTorch with CUDA, nvcc, no Java, no network), from the repository root with
# device-bundle/ present (make device-bundle). Builds libprojntk.so against that PyTorch with the CUDA kernels, runs the
# native GPU tests, the gpu-tagged JUnit tests and the GPU benchmarks, and writes logs and JSON into OUTDIR.
set -uo pipefail
out="${1:?usage: scripts/device-check.sh OUTDIR}"
mkdir -p "$out"
cd "$(dirname "$0")/.."
exec > >(tee "$out/device-check.log") 2>&1
t0=$(date +%s)
step() { echo "== [$(( $(date +%s) - t0 ))s] $*"; }
status=0

step "unpack the JRE"
[[ -x device-bundle/jre/bin/java ]] || tar xzf device-bundle/jre.tgz -C device-bundle || { echo "no device-bundle/jre.tgz: run make device-bundle first"; exit 1; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' \
  || { echo "python3 cannot import torch: this script needs PyTorch with CUDA"; exit 1; }

site=$(python3 -c 'import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))')
cudart=$(find "$site/nvidia" -name 'libcudart.so*' 2>/dev/null | head -1)
cuda_lib=${cudart:+$(dirname "$cudart")}
: "${cuda_lib:=/usr/local/cuda/lib64}"
export LD_LIBRARY_PATH="$cuda_lib:$(dirname "$(find "$site/nvidia" -name 'libcublas.so*' | head -1)"):$(dirname "$(find "$site/nvidia" -name 'libcurand.so*' | head -1)"):${LD_LIBRARY_PATH:-}"

step "build libprojntk.so with CUDA against PyTorch"
rm -rf build/native build/torch.mk   # objects do not depend on WITH_CUDA or on which libtorch: always rebuild here
LIBTORCH_USE_PYTORCH=1 make -s -j"$(nproc)" native native-test-bins WITH_CUDA=1 CUDA_LIB="$cuda_lib" JAVA_HOME=/nonexistent \
  > "$out/build.log" 2>&1 || { echo "native build failed"; tail -40 "$out/build.log"; exit 1; }
mkdir -p device-bundle/native && cp build/native/libprojntk.so device-bundle/native/

step "native tests (CPU + CUDA sections)"
for t in build/native/tests/*; do
  echo "-- $t"; timeout 180 "$t" > "$out/$(basename "$t").log" 2>&1 || { status=1; echo "FAILED: $t"; }
  tail -5 "$out/$(basename "$t").log"
done

java=device-bundle/jre/bin/java
jopts=(--enable-native-access=ALL-UNNAMED -Djava.awt.headless=true -Dprojntk.native=device-bundle/native/libprojntk.so)

step "runtime"
bin/projntk version | tee "$out/version.txt"

step "gpu-tagged JUnit tests"
timeout 240 "$java" "${jopts[@]}" -jar device-bundle/test-lib/junit-platform-console-standalone-*.jar execute \
  --class-path "device-bundle/test-classes:$(ls device-bundle/lib/*.jar | tr '\n' ':')" --scan-class-path \
  --include-tag gpu --reports-dir "$out/junit" > "$out/junit.log" 2>&1 || status=1
tail -15 "$out/junit.log"

step "projection benchmark: fused vs sgemm/TF32 with R precomputed vs cuRAND+cuBLAS"
timeout 150 bin/projntk bench projection --device cuda --P 1000000 --B 64 --K 512,2048,8192,16384 \
  --proj rademacher,sjlt,curand,sgemm-precomputed > "$out/projection-gpu.jsonl" 2> "$out/projection-gpu.err" || status=1
cat "$out/projection-gpu.jsonl"

step "gradient benchmark"
timeout 90 bin/projntk bench gradient --device cuda --model builtin:resnet18-cifar --B 32,128 --grad functional,iterative \
  > "$out/gradient-gpu.jsonl" 2> "$out/gradient-gpu.err" || status=1
cat "$out/gradient-gpu.jsonl"

step "JMH GPU subset (K = 2048, 8192)"
BENCH_JAR=device-bundle/lib/benchmarks.jar.bench PROJNTK_NATIVE=device-bundle/native/libprojntk.so \
  GPU_BENCH_PARAMS="-p K=2048,8192" timeout 200 scripts/bench.sh gpu > "$out/jmh-gpu.log" 2>&1 \
  || echo "(bench.sh gpu exited non-zero; its report step needs java.desktop, rendered back on the CPU machine)"
cp benchmarks/results/gpu-*.json "$out/" 2>/dev/null || status=1
tail -20 "$out/jmh-gpu.log"

step "done, status $status"
exit $status
