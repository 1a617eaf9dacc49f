#!/usr/bin/env bash
# Makes the self-contained linux-x64 build of the edgellm command that travels to a GPU machine without .NET
# (the device tool carries at most 64 MiB with the working tree), packed as .tar.xz:
#   bash scripts/publish-gpu.sh [OUT_DIR]     (default artifacts/gpu) -> OUT_DIR/edgellm.tar.xz
# Unpacked, edgellm/EdgeLlm.Cli runs every command; scripts/test-gpu.sh unpacks and runs it there.
# It is the same program as ./edgellm (`notebook run` needs Jupyter and the .NET Interactive kernel, which a GPU
# machine without .NET lacks).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-artifacts/gpu}"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
dotnet publish src/EdgeLlm.Cli/EdgeLlm.Cli.csproj -c Release -r linux-x64 --self-contained -o "$stage/edgellm" --nologo -v q
"$stage/edgellm/EdgeLlm.Cli" --help >/dev/null
# Debug symbols, XML docs and satellite resource folders are not needed to run; without them the pack leaves room
# in the 64 MiB carry for fixtures and datasets.
find "$stage/edgellm" \( -name '*.pdb' -o -name '*.xml' \) -delete
find "$stage/edgellm" -mindepth 1 -maxdepth 1 -type d -exec sh -c 'ls "$1"/*.resources.dll >/dev/null 2>&1' _ {} \; -print | xargs -r rm -rf
# The runtime's debugger and crash-dump helpers (only a debugger attaching or a crash dump loads them).
rm -f "$stage/edgellm/libmscordaccore.so" "$stage/edgellm/libmscordbi.so" "$stage/edgellm/createdump"
mkdir -p "$out"
tar -C "$stage" -cf - edgellm | xz -9e -T0 > "$out/edgellm.tar.xz.tmp"
mv "$out/edgellm.tar.xz.tmp" "$out/edgellm.tar.xz"
ls -l "$out/edgellm.tar.xz"
