#!/usr/bin/env bash
# The GPU check, for a lent Linux machine with an NVIDIA GPU and no internet (under 10 minutes):
#   scripts/gpu-check.sh [WHEELS_DIR]        OUT=<folder> for the results (default ./gpu-check-out)
# WHEELS_DIR (or TL_WHEELS) may hold tensorflow-2.21.0-*.whl (the GPU wheel), the nvidia-*-cu12
# wheels its and-cuda extra pins, and tensorflow_cpu-2.21.0-*.whl. Needs node_modules in place.
# Steps: the machine; the GPU build (setup:native --gpu) when the GPU wheel is there, else the
# native-gpu/ already built, else skipped with why (it needs a download); `transfer-lab env` for
# auto and cpu; the bench's MobileNetV2 rows (frozen forward 224/32, fast path and model.predict;
# full fine-tune step 224/32, BatchNorm in inference mode) through bench/worker.js, each with the
# GPU build (auto) and the CPU build. Everything goes to stdout and $OUT.
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
WHEELS="${1:-${TL_WHEELS:-}}"
export TRANSFER_LAB_CACHE="${TRANSFER_LAB_CACHE:-/tmp/transfer-lab-gpu-check}"
section() { printf '\n=== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
first() { ls $1 2>/dev/null | head -1; }

section machine
uname -sm
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi: not available"
ls /proc/driver/nvidia/gpus 2>/dev/null || echo "no /proc/driver/nvidia/gpus"
echo "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES-<unset>}; node $(node --version); $(nproc) cores"

section build the bundles
if [ ! -f dist/cli.js ] || [ ! -f out/bench/worker.js ]; then timeout 180 node esbuild.mjs | tail -1; fi

section CPU build
cpu_wheel="$(first "${WHEELS:-/nonexistent}/tensorflow_cpu-2.21.0-*.whl")"
TRANSFER_LAB_TF_WHEEL="${cpu_wheel:-${TRANSFER_LAB_TF_WHEEL:-}}" timeout 300 node scripts/setup-native.mjs --if-missing || echo "CPU build: not available (needs tensorflow_cpu-2.21.0-*.whl in WHEELS_DIR)"

section GPU build
gpu_wheel="$(first "${WHEELS:-/nonexistent}/tensorflow-2.21.0-*.whl")"
if [ -n "$gpu_wheel" ]; then
  if [ -n "$(first "$WHEELS/nvidia_*cu12-*.whl")" ]; then
    TRANSFER_LAB_TF_WHEEL="$gpu_wheel" TRANSFER_LAB_CUDA_WHEELS="$WHEELS" timeout 420 node scripts/setup-native.mjs --gpu
  else
    echo "no nvidia_*cu12 wheels in $WHEELS: the system's CUDA 12 / cuDNN 9"
    TRANSFER_LAB_TF_WHEEL="$gpu_wheel" timeout 420 node scripts/setup-native.mjs --gpu --system-cuda
  fi
  echo "setup:native --gpu exit $?"
elif [ -f native-gpu/transfer-lab-native.json ]; then
  echo "no GPU wheel given: using the GPU build already in native-gpu/"
else
  echo "SKIPPED: no tensorflow-2.21.0-*.whl in '${WHEELS:-<no WHEELS_DIR>}' and no native-gpu/ build; the GPU build needs that wheel (pip download tensorflow==2.21.0 elsewhere). The rows below are the CPU build's."
fi

section transfer-lab env
for device in auto cpu; do
  TRANSFER_LAB_NATIVE_DEVICE=$device timeout 120 node dist/cli.js env 2>/dev/null || echo "env ($device) failed"
  TRANSFER_LAB_NATIVE_DEVICE=$device timeout 120 node dist/cli.js env --json >"$OUT/env-$device.json" 2>"$OUT/env-$device.stderr"
done

section bench rows: MobileNetV2 forward and fine-tune
rows="$OUT/bench-rows.jsonl"
: >"$rows"
for device in auto cpu; do
  for row in 'forward 224/32 fast frozen path|{"kind":"forward","backend":"tensorflow","mode":"plan","size":224,"batch":32,"iters":6,"budgetMs":60000}' \
    'forward 224/32 model.predict|{"kind":"forward","backend":"tensorflow","mode":"predict","size":224,"batch":32,"iters":6,"budgetMs":60000}' \
    'fine-tune step 224/32 BN inference|{"kind":"finetune","size":224,"batch":32,"iters":4,"bn":"inference"}'; do
    name="${row%%|*}"
    result="$(TRANSFER_LAB_NATIVE_DEVICE=$device timeout 150 node out/bench/worker.js "${row#*|}" 2>>"$OUT/bench-stderr.log" | tail -1)"
    [ -n "$result" ] || result='{"error":"the worker failed: see bench-stderr.log"}'
    echo "{\"device\":\"$device\",\"row\":\"$name\",\"result\":$result}" | tee -a "$rows"
  done
done
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
for (const r of rows) {
  const x = r.result;
  const what = x.error ?? `${x.imgPerSec.toFixed(1)} img/s${x.peakRssBytes ? `, peak RSS ${(x.peakRssBytes / 2 ** 20).toFixed(0)} MB` : ""}`;
  console.log(`${r.device.padEnd(5)} ${r.row.padEnd(36)} ${what} (build ${x.nativeBuild ?? "?"}${x.usingGpu ? ", on the GPU" : ""})`);
}' "$rows" | tee "$OUT/summary.txt"
section done
