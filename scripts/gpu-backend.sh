#!/usr/bin/env bash
# Runs ON the GPU machine (no .NET there): the CUDA backend's checks and the batched greedy decode benchmark paired
# with transformers (issue 13). Unpacks the build from scripts/publish-gpu.sh and a tar of the hf-tiny fixtures;
# writes JSON and a log under $OUT.
#
#   bash scripts/gpu-backend.sh --publish edgellm.tar.xz [--fixtures hf-tiny.tar.xz] \
#        [--bench "phi-2:16,64 llama-3-8b:16,64"] [--repeats 2] [--prompt 512] [--new 128] [--ab-tiled]
#
# --fixtures runs `edgellm gpu-selftest` over every hf-tiny fixture and the Mistral references in
# tests/EdgeLlm.Tests/References. --bench writes each shape's random FP16 checkpoint (init-random --like, full depth),
# runs tools/reference/transformers_batched.py and `edgellm bench --device cuda --batch N --json` at each batch size,
# then deletes the checkpoint (the disk is 64 GB). --ab-tiled runs each bench a second time with decode rows on the
# tiled attention kernel (EDGELLM_CUDA_DECODE_ATTENTION=tiled), bench-SHAPE-bN-tiled.json, for the A/B in one session.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
publish="" fixtures="" shapes="" repeats=2 prompt=512 new=128 ab=0
while [ $# -gt 0 ]; do
  case "$1" in
    --publish) publish="$2"; shift 2 ;;
    --fixtures) fixtures="$2"; shift 2 ;;
    --bench) shapes="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --prompt) prompt="$2"; shift 2 ;;
    --new) new="$2"; shift 2 ;;
    --ab-tiled) ab=1; shift ;;
    *) echo "gpu-backend.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
out="${OUT:-$PWD/gpu-out}"
mkdir -p "$out"
work=/tmp/edgellm-gpu
mkdir -p "$work"
log="$out/log.txt"
. "$here/gpu-build.sh"
unpack_gpu_build "$publish" "$work" "$log"
reference="$here/../tools/reference/transformers_batched.py"
[ -f "$reference" ] || reference="$here/transformers_batched.py"   # the script and its helpers carried side by side
references="$here/../tests/EdgeLlm.Tests/References"
[ -d "$references" ] || references="$here"
python=python3
[ -x /opt/torch/.venv/bin/python ] && python=/opt/torch/.venv/bin/python
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv > "$out/machine.txt" 2>&1
status=0
if [ -n "$fixtures" ]; then
  tar -xJf "$fixtures" -C "$work" || { echo "cannot unpack $fixtures" | tee -a "$log"; exit 1; }
  args=()
  for f in "$work"/hf-tiny/*/ "$references"/mistral-*/; do
    [ -f "$f/expected.safetensors" ] && args+=(--fixture "${f%/}")
  done
  echo "== gpu-selftest (${#args[@]} args)" | tee -a "$log"
  "$bin" gpu-selftest "${args[@]}" --out "$out/selftest.json" >> "$log" 2>&1 || status=1
  grep -E "FAIL|gpu-selftest:" "$log"
fi
for item in $shapes; do
  shape="${item%%:*}" batches="${item#*:}"
  model="$work/model-$shape"
  start=$(date +%s)
  "$bin" init-random --like "$shape" --dtype f16 --out "$model" >> "$log" 2>&1 || { echo "init-random $shape failed" | tee -a "$log"; status=1; continue; }
  echo "== $shape written in $(( $(date +%s) - start )) s" | tee -a "$log"
  for b in ${batches//,/ }; do
    ref="$out/transformers-$shape-b$b.json"
    timeout 240 "$python" "$reference" "$model" --batch "$b" --prompt-tokens "$prompt" \
      --new-tokens "$new" --repeats "$repeats" > "$ref" 2>> "$log" || echo '{"error": "transformers_batched.py failed or timed out"}' > "$ref"
    timeout 300 "$bin" bench "$model" --device cuda --batch "$b" --prompt-tokens "$prompt" --new-tokens "$new" --repeats "$repeats" \
      --warmup 1 --reference "$ref" --json > "$out/bench-$shape-b$b.json" 2>> "$log" || status=1
    if [ "$ab" = 1 ]; then
      EDGELLM_CUDA_DECODE_ATTENTION=tiled timeout 300 "$bin" bench "$model" --device cuda --batch "$b" --prompt-tokens "$prompt" \
        --new-tokens "$new" --repeats "$repeats" --warmup 1 --reference "$ref" --json > "$out/bench-$shape-b$b-tiled.json" 2>> "$log" || status=1
      "$python" -c "import json,sys; r=json.load(open(sys.argv[1])); print('   tiled decode attention: generate %.0f tok/s, step %.2f ms' % (r['generate_tokens_per_second'], r['decode_ms_per_step']))" \
        "$out/bench-$shape-b$b-tiled.json" 2>&1 | tee -a "$log"
    fi
    "$python" - "$out/bench-$shape-b$b.json" "$ref" <<'PY' 2>&1 | tee -a "$log"
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print("   bench output unreadable:", e); sys.exit(0)
t = json.load(open(sys.argv[2]))
g = lambda k: r.get(k, float("nan"))
print(f"   {r.get('model')} batch {r.get('batch')}: generate {g('generate_tokens_per_second'):.0f} tok/s, decode {g('decode_tokens_per_second'):.0f} tok/s, "
      f"step {g('decode_ms_per_step'):.2f} ms = {g('step_over_floor'):.2f} x floor; prefill {g('prefill_tokens_per_second'):.0f} tok/s; "
      f"peak {g('peak_device_bytes')/2**30:.2f} GiB | transformers {t.get('tokens_per_second', t.get('error'))} tok/s, "
      f"peak {t.get('peak_bytes', 0)/2**30:.2f} GiB; x{r.get('speedup_over_transformers')}")
PY
  done
  rm -rf "$model"
done
echo "gpu-backend.sh: exit $status" | tee -a "$log"
exit $status
