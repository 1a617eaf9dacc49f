#!/usr/bin/env bash
# Installs what a fresh Debian machine needs beyond the .NET SDK, then restores NuGet packages.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
# LongBench's Chinese metrics read jieba's dictionary from Debian's package; the reference tests run
# jieba and fuzzywuzzy (with python-Levenshtein) under /usr/bin/python3.
/usr/bin/python3 -c "import jieba, fuzzywuzzy.fuzz, Levenshtein" >/dev/null 2>&1 || need+=(python3 python3-jieba python3-fuzzywuzzy)
# HumanEval runs model-written code only inside a bubblewrap sandbox (docs/security.md).
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}"
  else sudo apt-get update -qq && sudo apt-get install -y -qq "${need[@]}"; fi
fi
command -v dotnet >/dev/null 2>&1 || { echo "setup: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
dotnet restore Toolkit.sln --nologo -v q
# Analysis: headless Chromium renders Plotly figures to PNG/SVG; plotly.js comes from npm into tools/plotly.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi
fi
command -v npm >/dev/null 2>&1 || { echo "setup: npm is required for plotly.js (apt-get install npm)" >&2; exit 1; }
(cd tools/plotly && npm install --no-audit --no-fund --silent)
