#!/usr/bin/env bash
# Runs ON the GPU machine (no .NET there): one timed calibration pass on the GPU of a random FP16 model of a real shape
# (issue 13: 128 × 2048 C4 tokens for an 8 B model in minutes). Unpacks the build from scripts/publish-gpu.sh, writes
# `init-random --like SHAPE --dtype f16` under /tmp, copies the tokenizer into that folder (calibrate tokenizes with the
# model folder's tokenizer), runs `calibrate --device cuda` under timeout, writes one JSON line to $OUT/calibrate-SHAPE.json
# (wall time, exit code, calibrate's phases: load, samples = read + tokenize, pass) and the log to $OUT/calibrate-SHAPE.log,
# then deletes the model (the disk is 64 GB).
#
#   bash scripts/gpu-calibrate.sh --publish edgellm.tar.xz --tokenizer .gpu/llama3 \
#        --text .gpu/c4-format-train.00000-of-00001.json.gz [--shape llama-3-8b] [--samples 128] [--seqlen 2048] \
#        [--layers N] [--timeout 420] [--device cuda]
#
# --tokenizer: a folder with tokenizer.json (or tokenizer.json.xz / tokenizer.json.gz, unpacked here) and, if any,
#   tokenizer_config.json. --text: a C4-format shard (.json.gz or .jsonl) or a folder of them (concatenated into one
#   JSON-lines file). --layers keeps only that many decoder layers (a quick run); --device cpu is for trying the script.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
publish="" tokenizer="" text="" shape="llama-3-8b" samples=128 seqlen=2048 layers="" limit=420 device="cuda"
while [ $# -gt 0 ]; do
  case "$1" in
    --publish) publish="$2"; shift 2 ;;
    --tokenizer) tokenizer="$2"; shift 2 ;;
    --text) text="$2"; shift 2 ;;
    --shape) shape="$2"; shift 2 ;;
    --samples) samples="$2"; shift 2 ;;
    --seqlen) seqlen="$2"; shift 2 ;;
    --layers) layers="$2"; shift 2 ;;
    --timeout) limit="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    *) echo "gpu-calibrate.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$publish" ] && [ -d "$tokenizer" ] && [ -e "$text" ] || {
  echo "usage: gpu-calibrate.sh --publish TAR --tokenizer DIR --text FILE_OR_DIR [--shape S] [--samples N] [--seqlen N]" >&2; exit 2; }
out="${OUT:-$PWD/gpu-out}"
mkdir -p "$out"
work=/tmp/edgellm-gpu
mkdir -p "$work"
log="$out/calibrate-$shape.log"
result="$out/calibrate-$shape.json"
. "$here/gpu-build.sh"
unpack_gpu_build "$publish" "$work" "$log"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >> "$log" 2>&1

fail() {  # a JSON line saying what went wrong, so the caller always finds one
  printf '{"shape": "%s", "samples": %s, "seqlen": %s, "error": "%s"}\n' "$shape" "$samples" "$seqlen" "$1" > "$result"
  echo "gpu-calibrate.sh: $1" | tee -a "$log"
  rm -rf "$model"
  exit 1
}

model="$work/model-$shape"
rm -rf "$model"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
start=$(ms)
"$bin" init-random --like "$shape" --dtype f16 ${layers:+--layers "$layers"} --out "$model" >> "$log" 2>&1 || fail "init-random --like $shape failed"
written=$(ms)
echo "== $shape written in $(( (written - start) / 1000 )) s" | tee -a "$log"

# The tokenizer beside the weights (never over config.json or the weights), unpacked when it travelled compressed.
for f in "$tokenizer"/*; do
  name="$(basename "$f")"
  case "$name" in
    config.json|*.safetensors|*.safetensors.index.json) ;;
    *.xz) xz -dc "$f" > "$model/${name%.xz}" || fail "cannot unpack $f" ;;
    *.gz) gzip -dc "$f" > "$model/${name%.gz}" || fail "cannot unpack $f" ;;
    *) [ -f "$f" ] && cp "$f" "$model/" ;;
  esac
done
[ -f "$model/tokenizer.json" ] || [ -f "$model/qwen.tiktoken" ] || fail "no tokenizer.json in $tokenizer"

data="$text"
if [ -d "$text" ]; then
  data="$work/calibration-text.jsonl"
  : > "$data"
  for f in "$text"/*.json.gz "$text"/*.jsonl; do
    [ -f "$f" ] || continue
    case "$f" in *.gz) gzip -dc "$f" >> "$data" ;; *) cat "$f" >> "$data" ;; esac
  done
  [ -s "$data" ] || fail "no .json.gz or .jsonl files in $text"
fi

echo "== calibrate $shape on $device: $samples x $seqlen tokens from $data" | tee -a "$log"
stats="$work/calibration-$shape.safetensors"
rm -f "$stats"
timeout "$limit" "$bin" calibrate "$model" --device "$device" --data "$data" --samples "$samples" --seqlen "$seqlen" \
  --out "$stats" --quiet --json > "$work/calibrate.json" 2>> "$log"
rc=$?
finished=$(ms)
grep "^calibrate:" "$log" | tail -1
# One JSON line: the command's own fields (phases in seconds, tokens/s) plus the wall time around it.
python3 - "$work/calibrate.json" "$result" "$shape" "$samples" "$seqlen" "$rc" "$((finished - written))" \
  "$((written - start))" "$limit" <<'PY' 2>&1 | tee -a "$log"
import json, sys
src, dst, shape, samples, seqlen, rc, wall, init, limit = sys.argv[1:]
try:
    r = json.load(open(src))
    r.pop("block_influence", None)
except Exception as e:
    r = {"error": f"no calibrate JSON ({e})"}
rc = int(rc)
line = {"shape": shape, "samples": int(samples), "seqlen": int(seqlen), "exit_code": rc, "timed_out": rc in (124, 137),
        "timeout_s": int(limit), "wall_seconds": int(wall) / 1000, "init_random_seconds": int(init) / 1000, **r}
open(dst, "w").write(json.dumps(line) + "\n")
print(json.dumps(line))
PY
rm -rf "$model" "$stats"
echo "gpu-calibrate.sh: exit $rc" | tee -a "$log"
exit $rc
