#!/usr/bin/env bash
# Runs ON the GPU machine (no .NET there): one random full-depth FP16 checkpoint per shape, then `edgellm bench
# --device cuda` once per variant on it — an A/B (or A/B/C) of the engine's switches in one session, on the same
# weights — and the memory probe when asked. Writes bench-SHAPE[-bN]-LABEL.json and one summary line each under $OUT.
#
#   bash scripts/gpu-sweep.sh --publish edgellm.tar.xz --shape phi-2 [--batch 64] [--reference transformers.json] \
#        [--prompt 128 --new 256] [--shared-prefix N] [--transformers] --variant "rows2:EDGELLM_GEMV_ROWS=2" --variant "rows4:EDGELLM_GEMV_ROWS=4" ...
#
# A variant is LABEL or LABEL:NAME=VALUE[,NAME=VALUE...]; the environment switches are described in docs/performance.md.
# --reference passes a transformers figure measured earlier in the same session (tools/reference/*.py) to every bench;
# --transformers measures it first on each shape's checkpoint (batch 1: tools/reference/transformers_tpot.py).
# --shared-prefix N (with --batch): every prompt begins with the same N tokens, shared as eval shares a few-shot prefix.
# Each variant's greedy tokens (the bench's last decode run, the same prompt in every run) are compared with the first
# variant's: variants that only reorder the same sums must give identical tokens.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
publish="" shapes="" batch=1 shared=0 prompt="" new="" reference="" transformers=0 variants=()
while [ $# -gt 0 ]; do
  case "$1" in
    --publish) publish="$2"; shift 2 ;;
    --shape) shapes="$shapes $2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --prompt) prompt="$2"; shift 2 ;;
    --shared-prefix) shared="$2"; shift 2 ;;
    --new) new="$2"; shift 2 ;;
    --reference) reference="$2"; shift 2 ;;
    --transformers) transformers=1; shift ;;
    --variant) variants+=("$2"); shift 2 ;;
    *) echo "gpu-sweep.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$publish" ] && [ -n "$shapes" ] && [ ${#variants[@]} -gt 0 ] || { echo "gpu-sweep.sh: --publish, --shape and --variant are required" >&2; exit 2; }
out="${OUT:-$PWD/gpu-out}"
work=/tmp/edgellm-gpu
mkdir -p "$out" "$work"
log="$out/sweep-log.txt"
. "$here/gpu-build.sh"
unpack_gpu_build "$publish" "$work" "$log"
[ "$batch" = 1 ] && prompt="${prompt:-128}" new="${new:-256}" || prompt="${prompt:-512}" new="${new:-128}"
status=0
for shape in $shapes; do
  model="$work/model-$shape"
  "$bin" init-random --like "$shape" --dtype f16 --out "$model" >> "$log" 2>&1 || { echo "init-random $shape failed" | tee -a "$log"; status=1; continue; }
  shape_reference="$reference"
  if [ "$transformers" = 1 ] && [ "$batch" = 1 ]; then
    shape_reference="$out/transformers-$shape.json"
    timeout 300 python3 "$here/../tools/reference/transformers_tpot.py" "$model" --prompt-tokens "$prompt" --new-tokens "$new" > "$shape_reference" 2>> "$log" \
      || echo '{"error": "transformers_tpot.py failed or timed out"}' > "$shape_reference"
    echo "$shape transformers: $(cat "$shape_reference")" | tee -a "$log"
  fi
  first=""
  for v in "${variants[@]}"; do
    label="${v%%:*}" settings=""
    [ "$label" != "$v" ] && settings="${v#*:}"
    envs=()
    IFS=',' read -ra pairs <<< "$settings"
    for p in "${pairs[@]}"; do [ -n "$p" ] && envs+=("$p"); done
    args=(bench "$model" --device cuda --prompt-tokens "$prompt" --new-tokens "$new" --json)
    [ "$batch" != 1 ] && args+=(--batch "$batch" --repeats 2 --warmup 1 --shared-prefix "$shared")
    [ -n "$shape_reference" ] && args+=(--reference "$shape_reference")
    suffix="$shape$([ "$batch" != 1 ] && echo "-b$batch")-$label"
    timeout 300 env "${envs[@]}" "$bin" "${args[@]}" > "$out/bench-$suffix.json" 2>> "$log" || status=1
    first="${first:-$out/bench-$suffix.json}"
    python3 - "$out/bench-$suffix.json" "$suffix" "$first" <<'PY' 2>&1 | tee -a "$log"
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"{sys.argv[2]}: no result ({e})"); sys.exit(0)
g = lambda k: r.get(k, float("nan"))
try:
    base = json.load(open(sys.argv[3])).get("greedy_tokens")
    mine = r.get("greedy_tokens")
    if base is not None and mine is not None and sys.argv[3] != sys.argv[1]:
        same = sum(a == b for a, b in zip(base, mine))
        print(f"{sys.argv[2]}: greedy tokens equal to the first variant's: {same} of {len(base)}" + ("" if same == len(base) == len(mine) else "  <-- DIFFERENT"))
except Exception as e:
    print(f"{sys.argv[2]}: tokens not compared ({e})")
if "tpot_ms" in r:
    print(f"{sys.argv[2]}: TPOT {g('tpot_ms'):.3f} ms = {g('tpot_over_floor'):.2f} x floor, graph step {g('graph_replay_ms_per_token'):.3f} ms, "
          f"prefill {g('long_prefill_tokens_per_second'):.0f} tok/s, x{r.get('speedup_over_transformers')} transformers")
else:
    print(f"{sys.argv[2]}: generate {g('generate_tokens_per_second'):.0f} tok/s, step {g('decode_ms_per_step'):.2f} ms, "
          f"prefill {g('prefill_tokens_per_second'):.0f} tok/s, x{r.get('speedup_over_transformers')}")
PY
  done
  rm -rf "$model"
done
echo "gpu-sweep.sh: exit $status" | tee -a "$log"
exit $status
