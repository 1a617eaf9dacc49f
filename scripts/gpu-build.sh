# Sourced by the scripts that run ON the GPU machine (test-gpu.sh, gpu-backend.sh, eval-gpu.sh):
#   unpack_gpu_build PUBLISH.tar.xz WORK_DIR LOG
# unpacks the self-contained build of scripts/publish-gpu.sh into WORK_DIR (an unpacked build is reused only while the
# archive's checksum is the one it came from: a machine still warm from an earlier call may hold an older build), sets
# $bin to its edgellm executable and keeps NVRTC's compiled kernels in WORK_DIR/kernel-cache.
unpack_gpu_build() {
  local publish="$1" work="$2" log="$3" sum
  mkdir -p "$work"
  bin="$work/edgellm/EdgeLlm.Cli"
  sum=$(cksum < "$publish")
  if [ ! -x "$bin" ] || [ "$(cat "$work/edgellm.cksum" 2>/dev/null)" != "$sum" ]; then
    rm -rf "$work/edgellm" "$work/edgellm.cksum"
    if ! tar -xJf "$publish" -C "$work"; then
      echo "$(basename "$0"): cannot unpack $publish" | tee -a "$log"
      exit 1
    fi
    echo "$sum" > "$work/edgellm.cksum"
  fi
  export EDGELLM_CUDA_CACHE="$work/kernel-cache" DOTNET_CLI_TELEMETRY_OPTOUT=1
}
