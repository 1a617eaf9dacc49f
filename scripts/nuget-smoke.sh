#!/usr/bin/env bash
# Packs the library into artifacts/feed and runs scripts/nuget-smoke.fsx, which uses it through
# `#r "nuget: EdgeLlm, 0.1.0"`. The cached EdgeLlm 0.1.0 (if any) is removed first: NuGet never re-reads a
# version it has cached, and the point is to test the package just built.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf artifacts/feed
dotnet pack src/EdgeLlm -c Release -o artifacts/feed --nologo -v quiet "$@"
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
rm -rf "$packages/edgellm/0.1.0"
dotnet fsi scripts/nuget-smoke.fsx
