#!/usr/bin/env bash
# Makes the self-contained linux-x64 build of the edgellm command that travels to a GPU machine without .NET
# (the device tool carries at most 64 MiB with the working tree), packed as .tar.xz:
#   bash scripts/publish-gpu.sh [OUT_DIR]     (default artifacts/gpu) -> OUT_DIR/edgellm.tar.xz
# Unpacked, edgellm/EdgeLlm.Cli runs every command; scripts/test-gpu.sh unpacks and runs it there.
# The F# compiler (21 MB, used only by `notebook run` to execute F# cells) is left out to fit the limit; that one
# command fails in this build, everything else is the same program as ./edgellm.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-artifacts/gpu}"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
dotnet publish src/EdgeLlm.Cli/EdgeLlm.Cli.csproj -c Release -r linux-x64 --self-contained -o "$stage/edgellm" --nologo -v q
python3 - "$stage/edgellm" <<'PY'
import json, os, sys, glob
root = sys.argv[1]
deps_path = os.path.join(root, "EdgeLlm.Cli.deps.json")
deps = json.load(open(deps_path))
for target in deps["targets"].values():
    for name in [n for n in target if n.startswith("FSharp.Compiler.Service/")]:
        del target[name]
    for lib in target.values():
        lib.get("dependencies", {}).pop("FSharp.Compiler.Service", None)
for name in [n for n in deps["libraries"] if n.startswith("FSharp.Compiler.Service/")]:
    del deps["libraries"][name]
json.dump(deps, open(deps_path, "w"), indent=2)
for f in [os.path.join(root, "FSharp.Compiler.Service.dll")] + glob.glob(os.path.join(root, "*", "FSharp.Compiler.Service.resources.dll")):
    os.remove(f)
PY
"$stage/edgellm/EdgeLlm.Cli" --help >/dev/null
mkdir -p "$out"
tar -C "$stage" -cf - edgellm | xz -6 -T0 > "$out/edgellm.tar.xz.tmp"
mv "$out/edgellm.tar.xz.tmp" "$out/edgellm.tar.xz"
ls -l "$out/edgellm.tar.xz"
