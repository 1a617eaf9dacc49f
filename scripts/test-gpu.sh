#!/usr/bin/env bash
# Runs ON the GPU machine (no .NET there): unpacks the build from scripts/publish-gpu.sh, runs the CUDA engine's
# checks (edgellm gpu-selftest: every fixture against transformers' references and the CPU engine, graph replay
# against kernel-by-kernel launch, the missing-device error, perplexity of the trained fixture), then the decode and
# prefill benchmark on random full-depth FP16 weights of each shape, generated there, paired with transformers'
# TPOT on the same weights (tools/reference/transformers_tpot.py). Writes JSON under $OUT (or ./gpu-out).
#
#   bash scripts/test-gpu.sh --publish edgellm.tar.xz [--fixtures DIR] [--trained DIR] [--bench "phi-2 llama-3-8b qwen-7b"] [--ab-pdl]
#
# --ab-pdl runs each bench a second time with strictly serialised launches (EDGELLM_CUDA_PDL=0), bench-SHAPE-serial.json.
#
# The GPU machine's disk is 64 GB: each shape's checkpoint is written, measured and deleted before the next.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
publish="" fixtures="" trained="" shapes="" prompt=128 new=256 ab=0
while [ $# -gt 0 ]; do
  case "$1" in
    --publish) publish="$2"; shift 2 ;;
    --fixtures) fixtures="$2"; shift 2 ;;
    --trained) trained="$2"; shift 2 ;;
    --bench) shapes="$2"; shift 2 ;;
    --ab-pdl) ab=1; shift ;;
    *) echo "test-gpu.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
out="${OUT:-$PWD/gpu-out}"
mkdir -p "$out"
work=/tmp/edgellm-gpu
mkdir -p "$work"
log="$out/log.txt"
. "$here/gpu-build.sh"
unpack_gpu_build "$publish" "$work" "$log"
reference="$here/../tools/reference/transformers_tpot.py"
[ -f "$reference" ] || reference="$here/transformers_tpot.py"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
  python3 -c 'import nvidia, os; print("python nvidia packages:", os.path.dirname(list(nvidia.__path__)[0]))'
  ls /usr/local/nvidia/lib64/libcuda.so* 2>/dev/null
} > "$out/machine.txt" 2>&1
status=0
if [ -n "$fixtures" ] || [ -n "$trained" ]; then
  args=()
  if [ -n "$fixtures" ]; then for f in "$fixtures"/*/; do [ -f "$f/expected.safetensors" ] && args+=(--fixture "${f%/}"); done; fi
  [ -n "$trained" ] && args+=(--trained "$trained")
  echo "== gpu-selftest ${args[*]}" | tee -a "$log"
  "$bin" gpu-selftest "${args[@]}" --out "$out/selftest.json" 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
fi
for shape in $shapes; do
  model="$work/model-$shape"
  echo "== $shape: init-random" | tee -a "$log"
  start=$(date +%s)
  "$bin" init-random --like "$shape" --dtype f16 --out "$model" >> "$log" 2>&1 || { echo "init-random failed" | tee -a "$log"; status=1; continue; }
  echo "   written in $(( $(date +%s) - start )) s" | tee -a "$log"
  timeout 420 python3 "$reference" "$model" --prompt-tokens "$prompt" --new-tokens "$new" > "$work/transformers-$shape.json" 2>> "$log" \
    || echo '{"error": "transformers_tpot.py failed or timed out"}' > "$work/transformers-$shape.json"
  cat "$work/transformers-$shape.json" | tee -a "$log"
  "$bin" bench "$model" --device cuda --prompt-tokens "$prompt" --new-tokens "$new" --reference "$work/transformers-$shape.json" --json \
    > "$out/bench-$shape.json" 2>> "$log" || status=1
  python3 - "$out/bench-$shape.json" <<'PY' 2>&1 | tee -a "$log"
import json, sys
r = json.load(open(sys.argv[1]))
g = lambda k: r.get(k, float("nan"))
print(f"   TPOT {g('tpot_ms'):.3f} ms = {g('tpot_over_floor'):.2f} x floor {g('floor_ms'):.3f} ms ({g('read_bandwidth_g_bps'):.0f} GB/s); "
      f"graph step {g('graph_replay_ms_per_token'):.3f} ms, kernel-by-kernel {g('kernel_launch_ms_per_token'):.3f} ms; "
      f"prefill {g('long_prefill_tokens_per_second'):.0f} tok/s at {r.get('long_prefill_tokens')}; peak {g('peak_device_bytes')/2**30:.2f} GiB; "
      f"transformers {r.get('transformers_tpot_ms')} ms")
PY
  if [ "$ab" = 1 ]; then
    EDGELLM_CUDA_PDL=0 "$bin" bench "$model" --device cuda --prompt-tokens "$prompt" --new-tokens "$new" --json > "$out/bench-$shape-serial.json" 2>> "$log" || status=1
    python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('   serialised launches: TPOT %.3f ms = %.2f x floor' % (r['tpot_ms'], r['tpot_over_floor']))" "$out/bench-$shape-serial.json" 2>&1 | tee -a "$log"
  fi
  rm -rf "$model"
done
echo "test-gpu.sh: exit $status" | tee -a "$log"
exit $status
