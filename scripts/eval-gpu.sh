#!/usr/bin/env bash
# Runs ON the GPU machine (no .NET there): full `edgellm eval` runs of one or more models under one or more
# protocols, from the self-contained build of scripts/publish-gpu.sh, and packs the run folders so they come back
# through the device tool's $OUT (a few files only). Back here, `./edgellm eval MODEL --out RUN ...` on an unpacked
# run folder resumes it: finished samples are kept, so tasks left out there (HumanEval needs bubblewrap) run here.
#
#   bash scripts/eval-gpu.sh --publish edgellm.tar.xz --data datasets.tar.xz \
#        --model demo=data/demo-model [--model trained=DIR]... \
#        [--protocols "edge-llm-2024 kit-2024-base:csqa,bbh,gsm8k"] [--chat-template FILE.jinja] \
#        [--deadline SECONDS] [-- EXTRA EVAL ARGS]
#
# Each --protocols entry is PROTOCOL (its own task list) or PROTOCOL:TASK,TASK,...
#
# Writes $OUT/evals.json (one entry per run: model, protocol, wall seconds, exit status, the summary) and
# $OUT/runs.tar.xz (every run folder and the log). --deadline stops the runs that many seconds after the start
# (each run is resumable) so that the results are packed before the device call's own limit; WORK (default
# /tmp/edgellm-eval) lets several instances run side by side.
set -uo pipefail
publish="" data="" template="" deadline=0 protocols="edge-llm-2024 kit-2024-base"
models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --publish) publish="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --model) models+=("$2"); shift 2 ;;
    --protocols) protocols="$2"; shift 2 ;;
    --chat-template) template="$2"; shift 2 ;;
    --deadline) deadline="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "eval-gpu.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
extra=("$@")
[ -n "$publish" ] && [ -n "$data" ] && [ ${#models[@]} -gt 0 ] || { echo "eval-gpu.sh: --publish, --data and --model are required" >&2; exit 2; }
out="${OUT:-$PWD/gpu-out}"
work="${WORK:-/tmp/edgellm-eval}"
mkdir -p "$out" "$work/runs"
log="$work/runs/eval-log.txt"
begin=$(date +%s)
. "$(dirname "$0")/gpu-build.sh"
unpack_gpu_build "$publish" "$work" "$log"
if [ -d "$data" ]; then datasets="$data"; else mkdir -p "$work/data" && tar -xJf "$data" -C "$work/data" && datasets="$work/data/datasets"; fi
results="$work/evals.jsonl"
: > "$results"
for entry in "${models[@]}"; do
  label="${entry%%=*}" model="${entry#*=}"
  for spec in $protocols; do
    protocol="${spec%%:*}" tasks="${spec#*:}"
    run="$work/runs/$label-$protocol"
    args=(eval "$model" --protocol "$protocol" --data "$datasets" --out "$run" --json)
    if [ "$tasks" != "$protocol" ]; then args+=(--tasks "$tasks"); fi
    if [ "$protocol" = edge-llm-2024 ] && [ -n "$template" ]; then args+=(--chat-template "$template"); fi
    echo "== $label $protocol: ${args[*]} ${extra[*]}" | tee -a "$log"
    start=$(date +%s.%N)
    limit=()
    if [ "$deadline" -gt 0 ]; then
      left=$(( deadline - ($(date +%s) - begin) ))
      [ "$left" -gt 5 ] || { echo "== $label $protocol: not started, deadline reached" | tee -a "$log"; continue; }
      limit=(timeout "$left")
    fi
    "${limit[@]}" "$bin" "${args[@]}" "${extra[@]}" > "$work/summary.json" 2>> "$log"
    status=$?
    end=$(date +%s.%N)
    python3 - "$label" "$protocol" "$start" "$end" "$status" "$work/summary.json" >> "$results" <<'PY'
import json, sys
label, protocol, start, end, status, path = sys.argv[1:]
try: summary = json.load(open(path))
except Exception: summary = None
print(json.dumps({"model": label, "protocol": protocol, "wall_s": round(float(end) - float(start), 1),
                  "exit": int(status), "summary": summary}))
PY
    tail -n 1 "$results" | tee -a "$log" | cut -c1-300
  done
done
python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])], indent=1))' "$results" > "$out/evals.json"
tar -C "$work/runs" -cf - . | xz -6 -T0 > "$out/runs.tar.xz"
ls -l "$out"
