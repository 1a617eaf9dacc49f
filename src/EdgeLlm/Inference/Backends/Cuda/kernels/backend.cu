// Kernels of CudaBackend (the IBackend primitives on the device). Activations are float32 row-major
// [rows, width]; a step's per-row token, sequence and position, and each sequence's block table, sit in
// device memory that BeginStep fills (StepTable below), so the launches of a step do not depend on them.
//
// The paged KV cache and the attention kernels that read it are in paged_attention.cu.

// Where a step's row data lie (all device pointers, filled by BeginStep).
struct StepTable
{
    const int* token;      // [rows]
    const int* seq;        // [rows] segment index
    const int* pos;        // [rows] absolute position
    const u64* blocks;     // [segments][table_stride] block addresses
    int table_stride;
    int block_tokens;
};

// ---------------------------------------------------------------- element-wise and row-wise

// y[r, c] (+)= bias[c] over rows × n, y's rows ld floats apart.
extern "C" __global__ void be_add_bias(float* y, int ld, const float* bias, int rows, int n)
{
    long long total = (long long)rows * n;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
    {
        int r = (int)(i / n), c = (int)(i % n);
        y[(size_t)r * ld + c] += bias[c];
    }
}

// out[r, c] = tmp[r, map[c] - first] (+ bias[c]): a projection's columns picked out of a GEMM over the rows of a
// fused device matrix that cover it (map[c] is the device row holding the checkpoint's output row c).
extern "C" __global__ void be_gather_columns(const float* tmp, int ld_tmp, const int* map, int first, const float* bias,
    float* out, int ld_out, int rows, int n)
{
    long long total = (long long)rows * n;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
    {
        int r = (int)(i / n), c = (int)(i % n);
        float v = tmp[(size_t)r * ld_tmp + (map[c] - first)];
        out[(size_t)r * ld_out + c] = bias ? v + bias[c] : v;
    }
}

// dst[r, :n] = src[r, first .. first+n) in dtype DT (DT 2: a float32 copy). The 16-bit GEMM input of a projection.
template <int DT>
__device__ __forceinline__ void copy_columns(const float* src, int ld_src, int first, void* dst, int ld_dst, int rows, int n)
{
    long long total = (long long)rows * n;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
    {
        int r = (int)(i / n), c = (int)(i % n);
        store_one<DT>(dst, (long long)r * ld_dst + c, src[(size_t)r * ld_src + first + c]);
    }
}
extern "C" __global__ void be_copy_columns_f16(const float* s, int ls, int f, void* d, int ld, int rows, int n) { copy_columns<0>(s, ls, f, d, ld, rows, n); }
extern "C" __global__ void be_copy_columns_f32(const float* s, int ls, int f, void* d, int ld, int rows, int n) { copy_columns<2>(s, ls, f, d, ld, rows, n); }

// A float32 row split into two bfloat16 parts hi + lo (x ≈ hi + lo to about 2^-16), compact [rows, n].
extern "C" __global__ void be_split_bf16(const float* src, int ld_src, u16* hi, u16* lo, int rows, int n)
{
    long long total = (long long)rows * n;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
    {
        int r = (int)(i / n), c = (int)(i % n);
        float v = src[(size_t)r * ld_src + c];
        u16 h = f2b(v);
        hi[i] = h;
        lo[i] = f2b(v - b2f(h));
    }
}

// RMSNorm (mode 1) or LayerNorm (mode 2, biased variance) of each of x's rows over k columns; one block per row;
// out may be x.
extern "C" __global__ void be_norm(const float* x, int ld_x, const float* w, const float* b, float* out, int ld_out, int k, int mode, float eps)
{
    __shared__ float red[32];
    const float* xr = x + (size_t)blockIdx.x * ld_x;
    float* orow = out + (size_t)blockIdx.x * ld_out;
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
        orow[i] = mode == 1 ? xr[i] * rstd * w[i] : (xr[i] - mean) * rstd * w[i] + b[i];
}

// out[r, :] = table[token[r], :] widened to float32; launches may overlap: the tokens are read after the wait on the
// kernel that wrote them.
template <int DT>
__device__ __forceinline__ void embed_rows(const void* table, const int* token, float* out, int k)
{
    pdl_launch_dependents();
    pdl_wait();
    long long t = token[blockIdx.x];
    for (int i = threadIdx.x; i < k; i += blockDim.x) out[(size_t)blockIdx.x * k + i] = load_one<DT>(table, t * k + i);
}
extern "C" __global__ void be_embed_f16(const void* t, const int* tok, float* o, int k) { embed_rows<0>(t, tok, o, k); }
extern "C" __global__ void be_embed_bf16(const void* t, const int* tok, float* o, int k) { embed_rows<1>(t, tok, o, k); }
extern "C" __global__ void be_embed_f32(const void* t, const int* tok, float* o, int k) { embed_rows<2>(t, tok, o, k); }

// Rotary in place on rows first .. first+count of x: in each head the pairs (i, i + rot/2), i < rot/2, turn by
// pos·inv_freq[i] (rotate_pair in common.cuh); channels past rot stay.
extern "C" __global__ void be_rotary(float* x, int ld, int first, int count, int heads, int head_dim, int rot,
    const float* inv_freq, const int* pos)
{
    int half = rot / 2;
    long long total = (long long)count * heads * half;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
    {
        int r = first + (int)(i / ((long long)heads * half));
        int rest = (int)(i % ((long long)heads * half));
        int h = rest / half, c = rest % half;
        float* p = x + (size_t)r * ld + h * head_dim;
        rotate_pair(p + c, p + c + half, pos[r], inv_freq[c]);
    }
}

// QWen's log-n scaling: rows whose position p has p + 1 > trained are multiplied by ln(p+1)/ln(trained).
extern "C" __global__ void be_scale_log_position(float* x, int ld, int rows, int n, const int* pos, int trained)
{
    long long total = (long long)rows * n;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
    {
        int r = (int)(i / n), c = (int)(i % n);
        int p = pos[r];
        if (p + 1 <= trained) continue;
        x[(size_t)r * ld + c] *= (float)(log((double)(p + 1)) / log((double)trained));
    }
}

// op 0: x += y; op 1: x = silu(x) · y; op 2: x = silu(x); op 3: x = gelu_new(x); op 4: x = exact gelu(x).
extern "C" __global__ void be_elementwise(float* x, const float* y, long long count, int op)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
    {
        float v = x[i];
        switch (op)
        {
            case 0: v += y[i]; break;
            case 1: v = silu(v) * y[i]; break;
            case 2: v = silu(v); break;
            case 3: v = gelu_new(v); break;
            default: v = 0.5f * v * (1.f + erff(v * 0.7071067811865476f)); break;
        }
        x[i] = v;
    }
}

// dst[r, :] = src[rows[r], :] (the hidden rows the head reads for greedy tokens).
extern "C" __global__ void be_gather_rows(const float* src, const int* rows, float* dst, int k)
{
    const float* s = src + (size_t)rows[blockIdx.x] * k;
    for (int i = threadIdx.x; i < k; i += blockDim.x) dst[(size_t)blockIdx.x * k + i] = s[i];
}

// token[r] = the first index of the largest of logits[r, :n]; -1 when the row holds NaN (the caller reports it).
extern "C" __global__ void __launch_bounds__(1024) be_argmax_rows(const float* logits, int n, int* token)
{
    __shared__ float best[32];
    __shared__ int where[32];
    __shared__ int nan_seen;
    if (threadIdx.x == 0) nan_seen = 0;
    __syncthreads();
    const float* row = logits + (size_t)blockIdx.x * n;
    float b = NEG_INF;
    int at = 0x7fffffff;
    for (int i = threadIdx.x; i < n; i += blockDim.x)
    {
        float v = row[i];
        if (v != v) nan_seen = 1;
        else if (v > b) { b = v; at = i; } // i increases: a later equal value keeps the earlier index
    }
    for (int o = 16; o > 0; o >>= 1)
    {
        float ob = __shfl_xor_sync(0xffffffffu, b, o);
        int oa = __shfl_xor_sync(0xffffffffu, at, o);
        if (ob > b || (ob == b && oa < at)) { b = ob; at = oa; }
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) { best[warp] = b; where[warp] = at; }
    __syncthreads();
    if (threadIdx.x == 0)
    {
        b = best[0]; at = where[0];
        for (int w = 1; w < warps; w++)
            if (best[w] > b || (best[w] == b && where[w] < at)) { b = best[w]; at = where[w]; }
        token[blockIdx.x] = nan_seen || at == 0x7fffffff ? -1 : at;
    }
}
