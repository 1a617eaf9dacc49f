#!/usr/bin/env bash
# Runs ON the GPU machine (no .NET there): how long the challenge suite takes on the CUDA engine for a random model of a
# real shape (issue 13). Random weights never stop early, so every sample runs to its task's length limit: the worst case.
# For each task, `edgellm eval --device cuda` runs the first --limit samples at --max-batch (one full batch of the
# continuous batcher, every sample to its limit) and its wall time is recorded with the samples and the task's size, so
# the full task's time at that batch is the measured time × samples ÷ limit (the batch stays full until the last wave).
# Writes one JSON line per task to $OUT/suite-SHAPE.jsonl and the eval log to $OUT/suite-SHAPE.log.
#
#   bash scripts/gpu-suite.sh --publish edgellm.tar.xz --tokenizer DIR --data DATASETS_DIR_OR_TAR_XZ \
#        --chat-template FILE.jinja [--shape phi-2] [--tasks csqa,chid,bbh,gsm8k,truthfulqa] [--limit 128] \
#        [--max-batch 128] [--timeout 120] [--layers N] [--device cuda] [--share-prefix 16,0] [--shard K/N]
#
# --shard K/N passes eval's --shard (samples i with i mod N = K-1), so a whole task too long for one device command runs
# as N calls; each line records its shard.
# --share-prefix runs each task once per value given (eval --share-prefix: a sample takes the keys and values of the
# prompt start it shares with one in flight; 0 off), for the A/B on the same weights; each line records its value.
# --layers keeps only that many decoder layers and --device cpu runs on the CPU: for trying the script.
# --tokenizer: a folder with tokenizer.json (or tokenizer.json.xz) and tokenizer_config.json, copied beside the weights.
# HumanEval runs with eval --mode infer: generated and timed here, its predictions (under the run folder's predictions/)
# scored later with --mode eval where the bubblewrap sandbox is (the GPU machine has none).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
publish="" tokenizer="" data="" template="" shape="phi-2" tasks="csqa,chid,bbh,gsm8k,truthfulqa,humaneval" limit=128 batch=128 each=120 layers="" device=cuda shares="" shard="1/1"
while [ $# -gt 0 ]; do
  case "$1" in
    --publish) publish="$2"; shift 2 ;;
    --tokenizer) tokenizer="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --chat-template) template="$2"; shift 2 ;;
    --shape) shape="$2"; shift 2 ;;
    --tasks) tasks="$2"; shift 2 ;;
    --limit) limit="$2"; shift 2 ;;
    --max-batch) batch="$2"; shift 2 ;;
    --timeout) each="$2"; shift 2 ;;
    --layers) layers="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --share-prefix) shares="${2//,/ }"; shift 2 ;;
    --shard) shard="$2"; shift 2 ;;
    *) echo "gpu-suite.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$publish" ] && [ -d "$tokenizer" ] && [ -e "$data" ] && [ -f "$template" ] || {
  echo "usage: gpu-suite.sh --publish TAR --tokenizer DIR --data DIR_OR_TAR_XZ --chat-template FILE [--shape S] [--tasks T,...]" >&2; exit 2; }
out="${OUT:-$PWD/gpu-out}"
work=/tmp/edgellm-gpu
mkdir -p "$out" "$work"
log="$out/suite-$shape.log"
results="$out/suite-$shape.jsonl"
: > "$results"
. "$here/gpu-build.sh"
unpack_gpu_build "$publish" "$work" "$log"
if [ -d "$data" ]; then datasets="$data"; else mkdir -p "$work/data" && tar -xJf "$data" -C "$work/data" && datasets="$work/data/datasets"; fi
model="$work/suite-$shape"
"$bin" init-random --like "$shape" --dtype f16 ${layers:+--layers "$layers"} --out "$model" >> "$log" 2>&1 || { echo "gpu-suite.sh: init-random $shape failed" | tee -a "$log"; exit 1; }
for f in "$tokenizer"/*; do
  case "$f" in
    *.xz) xz -dc "$f" > "$model/$(basename "${f%.xz}")" ;;
    */config.json|*.safetensors) ;;
    *) cp "$f" "$model/" ;;
  esac
done
status=0
for task in ${tasks//,/ }; do
for share in ${shares:-default}; do
  run="$work/suite-run-$task-$share"
  rm -rf "$run"
  echo "== $task: first $limit samples at max batch $batch, share-prefix $share" | tee -a "$log"
  extra=(--shard "$shard")
  [ "$share" = default ] || extra+=(--share-prefix "$share")
  [ "$task" = humaneval ] && extra+=(--mode infer)
  start=$(date +%s.%N)
  timeout "$each" "$bin" eval "$model" --device "$device" --protocol edge-llm-2024 --tasks "$task" --chat-template "$template" \
    --data "$datasets" --limit "$limit" --max-batch "$batch" --out "$run" --json "${extra[@]}" > "$run.json" 2>> "$log"
  code=$?
  wall=$(python3 -c "import time; print(round(time.time() - $start, 2))")
  [ "$code" = 0 ] || status=1
  python3 - "$task" "$run" "$datasets" "$limit" "$batch" "$wall" "$code" "$shape" "$share" "$shard" <<'PY' | tee -a "$results"
import glob, json, os, sys
task, run, datasets, limit, batch, wall, code, shape, share, shard = sys.argv[1:11]
records = sum(sum(1 for _ in open(f)) for f in glob.glob(os.path.join(run, "*.jsonl")) + glob.glob(os.path.join(run, "predictions", "*.jsonl")))
try:
    summary = json.load(open(run + ".json"))
    tasks = summary["tasks"]  # eval: {task: scores}; eval --mode infer: [{task, selected, new_predictions, ...}]
    rate = (tasks[task] if isinstance(tasks, dict) else next(t for t in tasks if t["task"] == task))["samples_per_second"]
    batch_used = summary.get("max_batch")
except Exception:
    rate, batch_used = None, None
print(json.dumps({"shape": shape, "task": task, "limit": int(limit), "max_batch": batch_used or int(batch), "wall_seconds": float(wall),
                  "exit_code": int(code), "records_written": records, "samples_per_second": rate,
                  "share_prefix": None if share == "default" else int(share), "shard": shard}))
PY
done
done
rm -rf "$model"
echo "gpu-suite.sh: exit $status" | tee -a "$log"
exit $status
