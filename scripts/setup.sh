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
# The Slurm job-array test (tests/EdgeLlm.Tests/Evaluation/Distributed) starts its own single-node cluster:
# slurmctld + slurmd with munge, on loopback, from a generated slurm.conf.
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 || ! command -v sbatch >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  slurm=(slurmctld slurmd slurm-client munge)
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${slurm[@]}"
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${slurm[@]}"; fi
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
# Chat templates: @huggingface/jinja (transformers.js's Jinja renderer) is the reference the renderer's tests run under node.
(cd tools/jinja && npm install --no-audit --no-fund --silent)
# Notebooks: Jupyter (Debian's packages) executes them in the .NET Interactive kernel, a dotnet tool kept inside the
# checkout (tools/dotnet-interactive); its kernelspecs go to tools/jupyter (scripts/notebooks.sh points JUPYTER_PATH
# there), so nothing is written to ~. The kernel listens on every interface unless --http-local-only is in argv.
/usr/bin/python3 -c "import nbconvert, nbclient, jupyter_client, ipykernel" >/dev/null 2>&1 || {
  pkgs=(jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel)
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${pkgs[@]}"
  else sudo apt-get update -qq && sudo apt-get install -y -qq "${pkgs[@]}"; fi
}
interactive_version=1.0.712001
if ! tools/dotnet-interactive/dotnet-interactive --version 2>/dev/null | grep -q "^${interactive_version}"; then
  rm -rf tools/dotnet-interactive
  dotnet tool install Microsoft.dotnet-interactive --version "$interactive_version" --tool-path tools/dotnet-interactive >/dev/null
fi
rm -rf tools/jupyter && mkdir -p tools/jupyter/kernels
DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT=1 tools/dotnet-interactive/dotnet-interactive jupyter install --path tools/jupyter/kernels >/dev/null
rm -rf tools/jupyter/kernels/.net-powershell
/usr/bin/python3 - "$PWD/tools/dotnet-interactive/dotnet-interactive" tools/jupyter/kernels/.net-*/kernel.json <<'PY'
import json, sys
tool = sys.argv[1]
for path in sys.argv[2:]:
    spec = json.load(open(path))
    argv = spec["argv"]
    assert argv[:3] == ["dotnet", "interactive", "jupyter"], f"{path}: unexpected argv {argv}"
    spec["argv"] = [tool] + argv[2:] + ["--http-local-only"]   # the tool in this checkout, not a global `dotnet interactive`
    spec.setdefault("env", {})["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1"
    json.dump(spec, open(path, "w"), indent=1)
PY
