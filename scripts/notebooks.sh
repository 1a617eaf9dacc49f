#!/usr/bin/env bash
# Executes every notebook in notebooks/ in the real .NET Interactive kernel (jupyter nbconvert --execute), keeps the
# executed .ipynb and an HTML export under artifacts/notebooks, then checks them with scripts/check_notebooks.py.
# Needs scripts/setup.sh (Jupyter, the kernel in tools/) and the EdgeLlm package in artifacts/feed, which
# notebooks/nuget.config lists: scripts/nuget-smoke.sh packs it (test.sh runs that first); pass --pack to pack here.
# Prints one line per notebook and a last line "notebooks: P passed, F failed"; exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--pack" ]; then
  rm -rf artifacts/feed
  dotnet pack src/EdgeLlm -c Release -o artifacts/feed --nologo -v quiet || exit 1
fi
[ -f artifacts/feed/EdgeLlm.0.1.0.nupkg ] || { echo "notebooks: artifacts/feed/EdgeLlm.0.1.0.nupkg is missing (run scripts/nuget-smoke.sh or pass --pack)" >&2; exit 1; }
out=artifacts/notebooks
rm -rf "$out" && mkdir -p "$out"
export JUPYTER_PATH="$PWD/tools/jupyter" JUPYTER_DATA_DIR="$PWD/$out/.jupyter-data" JUPYTER_CONFIG_DIR="$PWD/$out/.jupyter-config"
export DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT=1
times="$out/times.tsv"
for nb in notebooks/*.ipynb; do
  name="$(basename "$nb" .ipynb)"
  start=$(date +%s)
  # Restore the package just packed for each kernel: NuGet never re-reads a cached version, and the user-wide cache
  # may meanwhile hold another build of 0.1.0 (another checkout's nuget-smoke; check_notebooks.py catches that).
  rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/edgellm/0.1.0"
  jupyter nbconvert --to notebook --execute --allow-errors "$nb" --output-dir "$out" --output "$name.ipynb" \
    --ExecutePreprocessor.kernel_name=.net-fsharp --ExecutePreprocessor.timeout=900 >"$out/$name.log" 2>&1 \
    || echo "jupyter nbconvert exited $?" >>"$out/$name.log"
  [ -f "$out/$name.ipynb" ] && jupyter nbconvert --to html "$out/$name.ipynb" --output-dir "$out" >>"$out/$name.log" 2>&1
  printf '%s\t%s\n' "$name" "$(( $(date +%s) - start ))" >>"$times"
done
/usr/bin/python3 scripts/check_notebooks.py notebooks "$out"
