#!/usr/bin/env bash
# proj-trNTK featurize (cnn-fmnist) by projntk and by the reference pipeline, in interleaved rounds on one machine,
# as JSON lines: `bench featurize` (normal and rademacher, with the host's ceiling), `bench gradient --kernel trntk`,
# and the reference's gradients / projection / end to end (run.sh). Compare ratios within one run only.
# Usage: benchmarks/reference/side_by_side.sh [ROUNDS [ROWS [K]]]   (from the repository root, after `make build`)
set -euo pipefail
rounds=${1:-2} rows=${2:-512} k=${3:-2048}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for ((r = 1; r <= rounds; r++)); do
  echo "# round $r of $rounds" >&2
  "$root/bin/projntk" bench featurize --model builtin:cnn-fmnist --kernel trntk --proj normal,rademacher --dim "$k" \
    --rows "$rows" --batch 64 --peak-seconds 2
  "$root/bin/projntk" bench gradient --model builtin:cnn-fmnist --kernel trntk --B 64 --grad functional
  "$here/run.sh" --rows "$rows" --batch 64 --K "$k" --threads "$(nproc)"
done
