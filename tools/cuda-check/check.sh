#!/usr/bin/env bash
# Type-checks the engine's CUDA kernels with clang (no CUDA toolkit or GPU needed), in the order NVRTC sees
# them (common.cuh, then every .cu by name). NVRTC on the GPU machine stays the compiler that counts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernels="$here/../../src/EdgeLlm/Inference/Backends/Cuda/kernels"
clang=$(command -v clang++-14 || command -v clang++ || ls /usr/lib/llvm-*/bin/clang++ 2>/dev/null | tail -1)
[ -x "$clang" ] || { echo "cuda-check: no clang++ found" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
{ cat "$kernels/common.cuh"; for f in $(ls "$kernels"/*.cu | sort); do echo "// ---- $(basename "$f")"; cat "$f"; done; } > "$tmp/all.cu"
"$clang" -x cuda --cuda-device-only --cuda-gpu-arch=sm_80 -nocudainc -nocudalib -std=c++17 -fsyntax-only \
    -Wno-unknown-cuda-version -include "$here/prelude.h" "$tmp/all.cu" "$@"
echo "cuda-check: kernels type-check"
