// Row-wise kernels of the prefill path (many tokens; the projections themselves are cuBLAS GEMMs over
// 16-bit operands with float32 accumulation) and the small kernels both paths share.

// RMSNorm (mode 1) or LayerNorm (mode 2) of each row of x [rows, k] (float32), written in dtype DT: the
// 16-bit input of the next GEMM, or float32 for the final hidden states. One block per row.
template <int DT>
__device__ __forceinline__ void norm_rows(const float* x, const float* w, const float* b, void* out, int k, int mode, float eps)
{
    __shared__ float red[32];
    pdl_launch_dependents();
    pdl_wait();
    const float* xr = x + (size_t)blockIdx.x * k;
    float mean = 0.f;
    if (mode == 2)
    {
        float s = 0.f;
        for (int i = threadIdx.x; i < k; i += blockDim.x) s += xr[i];
        mean = block_sum(s, red) / k;
    }
    float ss = 0.f;
    for (int i = threadIdx.x; i < k; i += blockDim.x) { float d = xr[i] - mean; ss += d * d; }
    float rstd = rsqrtf(block_sum(ss, red) / k + eps);
    for (int i = threadIdx.x; i < k; i += blockDim.x)
    {
        float v = mode == 1 ? xr[i] * rstd * w[i] : (xr[i] - mean) * rstd * w[i] + b[i];
        store_one<DT>(out, (long long)blockIdx.x * k + i, v);
    }
}
extern "C" __global__ void norm_rows_f16(const float* x, const float* w, const float* b, void* out, int k, int mode, float eps) { norm_rows<0>(x, w, b, out, k, mode, eps); }
extern "C" __global__ void norm_rows_bf16(const float* x, const float* w, const float* b, void* out, int k, int mode, float eps) { norm_rows<1>(x, w, b, out, k, mode, eps); }
extern "C" __global__ void norm_rows_f32(const float* x, const float* w, const float* b, void* out, int k, int mode, float eps) { norm_rows<2>(x, w, b, out, k, mode, eps); }

// After the fused [q | k | v | f] GEMM of a prefill chunk: Y [rows, n] float32 (+ bias). Rows 0..nq of a
// token are q (rotated, written head-major [heads][rows][head_dim] in float16 for the attention GEMM),
// then k (rotated) and v, written into the cache at positions start + t; the f part gets the MLP
// activation, written [rows, f] in dtype DT for the next GEMM (act 1: interleaved gate/up -> silu(g)·u;
// act 2: gelu_new). One thread per adjacent column pair, the pairs rotary_source describes.
template <int DT>
__device__ __forceinline__ void fused_rows(const float* Y, const float* bias, int rows, int n, int nq, int nkv,
    int head_dim, int rot_dim, const float* inv_freq, int start, u16* q_heads, u16* kc, u16* vc, int kv_width,
    void* f_out, int act)
{
    const int pairs = n / 2, nf = n - nq - 2 * nkv, f_width = act == 1 ? nf / 2 : nf;
    long long total = (long long)rows * pairs;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
    {
        int t = (int)(i / pairs), col = (int)(i % pairs) * 2, pos = start + t;
        float v0 = Y[(size_t)t * n + col], v1 = Y[(size_t)t * n + col + 1];
        if (bias) { v0 += bias[col]; v1 += bias[col + 1]; }
        if (col < nq + nkv)
        {
            bool isk = col >= nq;
            int p = isk ? col - nq : col, head = p / head_dim, c = p % head_dim, o0, o1;
            rotary_source(c, rot_dim, &o0, &o1);
            if (c < rot_dim) rotate_pair(&v0, &v1, pos, inv_freq[c >> 1]);
            if (!isk)
            {
                u16* q = q_heads + ((size_t)head * rows + t) * head_dim;
                q[o0] = f2h(v0); q[o1] = f2h(v1);
            }
            else
            {
                u16* k = kc + (size_t)pos * kv_width + head * head_dim;
                k[o0] = f2h(v0); k[o1] = f2h(v1);
            }
        }
        else if (col < nq + 2 * nkv)
        {
            u16* v = vc + (size_t)pos * kv_width + (col - nq - nkv);
            v[0] = f2h(v0); v[1] = f2h(v1);
        }
        else
        {
            int f = col - nq - 2 * nkv;
            if (act == 1) store_one<DT>(f_out, (long long)t * f_width + f / 2, silu(v0) * v1);
            else { store_one<DT>(f_out, (long long)t * f_width + f, gelu_new(v0)); store_one<DT>(f_out, (long long)t * f_width + f + 1, gelu_new(v1)); }
        }
    }
}
#define FUSED_ROWS_ARGS const float* Y, const float* bias, int rows, int n, int nq, int nkv, int head_dim, int rot_dim, \
    const float* inv_freq, int start, u16* q_heads, u16* kc, u16* vc, int kv_width, void* f_out, int act
#define FUSED_ROWS_PASS Y, bias, rows, n, nq, nkv, head_dim, rot_dim, inv_freq, start, q_heads, kc, vc, kv_width, f_out, act
extern "C" __global__ void fused_rows_f16(FUSED_ROWS_ARGS) { fused_rows<0>(FUSED_ROWS_PASS); }
extern "C" __global__ void fused_rows_bf16(FUSED_ROWS_ARGS) { fused_rows<1>(FUSED_ROWS_PASS); }
extern "C" __global__ void fused_rows_f32(FUSED_ROWS_ARGS) { fused_rows<2>(FUSED_ROWS_PASS); }

// x [rows, n] += bias (the GEMM already added its product into x with beta = 1).
extern "C" __global__ void add_bias_rows(float* x, const float* bias, int rows, int n)
{
    long long total = (long long)rows * n;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
        x[i] += bias[i % n];
}

// float32 [count] -> dtype DT (a GEMM's 16-bit input).
template <int DT>
__device__ __forceinline__ void convert_from_f32(const float* in, void* out, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        store_one<DT>(out, i, in[i]);
}
extern "C" __global__ void convert_f16(const float* in, void* out, long long count) { convert_from_f32<0>(in, out, count); }
extern "C" __global__ void convert_bf16(const float* in, void* out, long long count) { convert_from_f32<1>(in, out, count); }
extern "C" __global__ void convert_f32(const float* in, void* out, long long count) { convert_from_f32<2>(in, out, count); }

// Greedy step on the device: token = argmax(logits) (the first index among equal maxima, as the CPU
// engine's IndexOfMax), then the position advances, so the next replay of the decode graph consumes it.
// One block of 1024 threads.
extern "C" __global__ void __launch_bounds__(1024) argmax_advance(const float* logits, int n, int* token, int* pos)
{
    pdl_launch_dependents();
    pdl_wait();
    __shared__ float best_v[32];
    __shared__ int best_i[32];
    float bv = NEG_INF;
    int bi = 0x7fffffff;
    for (int i = threadIdx.x; i < n; i += blockDim.x)
    {
        float v = logits[i];
        if (v > bv) { bv = v; bi = i; } // strided ascending: the first maximum of this thread wins
    }
    for (int o = 16; o > 0; o >>= 1)
    {
        float ov = __shfl_xor_sync(0xffffffffu, bv, o);
        int oi = __shfl_xor_sync(0xffffffffu, bi, o);
        if (ov > bv || (ov == bv && oi < bi)) { bv = ov; bi = oi; }
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { best_v[warp] = bv; best_i[warp] = bi; }
    __syncthreads();
    if (threadIdx.x == 0)
    {
        for (int w = 1; w < (int)(blockDim.x >> 5); w++)
            if (best_v[w] > bv || (best_v[w] == bv && best_i[w] < bi)) { bv = best_v[w]; bi = best_i[w]; }
        *token = bi == 0x7fffffff ? 0 : bi;
        *pos = *pos + 1;
    }
}

// Read-bandwidth probe: every block reduces its grid-stride share of a large buffer with 16-byte loads
// and writes one word, so the loads cannot be dropped. Bytes read / time = the card's read bandwidth,
// the floor's denominator.
extern "C" __global__ void read_probe(const uint4* data, long long count, u32* out)
{
    u32 acc = 0;
    long long stride = (long long)gridDim.x * blockDim.x;
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    for (; i + 3 * stride < count; i += 4 * stride)
    {
        uint4 a = load_stream(data + i), b = load_stream(data + i + stride);
        uint4 c = load_stream(data + i + 2 * stride), d = load_stream(data + i + 3 * stride);
        acc += a.x ^ b.y ^ c.z ^ d.w;
        acc += a.y + b.x + c.w + d.z;
    }
    for (; i < count; i += stride) { uint4 a = load_stream(data + i); acc += a.x ^ a.y ^ a.z ^ a.w; }
    acc = __reduce_add_sync(0xffffffffu, acc);
    if ((threadIdx.x & 31) == 0) atomicAdd(out, acc);
}

// Fills a buffer with a pattern (the probe must not read zeros or untouched pages).
extern "C" __global__ void fill_pattern(u32* data, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        data[i] = (u32)(i * 2654435761ull);
}

// Turns arbitrary 16-bit words into float16 values in [1, 2) (mantissa kept, exponent fixed), so that a
// GEMM timed on filled buffers sees neither NaNs nor zeros.
extern "C" __global__ void sanitize_f16(u16* data, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        data[i] = (u16)(0x3c00u | (data[i] & 0x03ffu));
}

// x (float32) = hi + lo with hi = bfloat16(x) and lo = bfloat16(x - hi): a GEMM over bfloat16 weights then runs
// twice (hi, then lo added) and sees x to about 16 significant bits instead of bfloat16's 8.
extern "C" __global__ void split_bf16(const float* x, u16* hi, u16* lo, long long count)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
    {
        float v = x[i];
        u16 h = f2b(v);
        hi[i] = h;
        lo[i] = f2b(v - b2f(h));
    }
}
