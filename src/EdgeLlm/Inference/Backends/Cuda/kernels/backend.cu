// Kernels of CudaBackend (the IBackend primitives on the device). Activations are float32 row-major
// [rows, width]; a step's per-row token, sequence and position, and each sequence's block table, sit in
// device memory that BeginStep fills (StepTable below), so the launches of a step do not depend on them.
//
// Paged KV cache: every sequence's keys and values live in fixed-size blocks of `block_tokens` positions
// taken from one pool. A block holds all layers: layer l starts at byte layer_offset[l] of the block, its
// keys [block_tokens][kv_width] float16 first, then its values in the same layout. A sequence's block
// table lists the device address of its i-th block (positions i·block_tokens …).

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

__device__ __forceinline__ u16* kv_slot(const StepTable& t, int seq, int p, int layer_offset, int kv_width, bool values)
{
    u64 block = t.blocks[(size_t)seq * t.table_stride + p / t.block_tokens];
    size_t off = (size_t)layer_offset + (values ? (size_t)t.block_tokens * kv_width * 2 : 0) + (size_t)(p % t.block_tokens) * kv_width * 2;
    return (u16*)(block + off);
}

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

// out[r, :] = table[token[r], :] widened to float32.
template <int DT>
__device__ __forceinline__ void embed_rows(const void* table, const int* token, float* out, int k)
{
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

// ---------------------------------------------------------------- paged attention

// Writes each row's k and v (float32 [rows, kv_width]) into its sequence's blocks at its position, in float16.
extern "C" __global__ void be_kv_write(const float* k, const float* v, int ld_k, int ld_v, StepTable t, int layer_offset, int kv_width)
{
    int r = blockIdx.x;
    int seq = t.seq[r], p = t.pos[r];
    u16* kd = kv_slot(t, seq, p, layer_offset, kv_width, false);
    u16* vd = kv_slot(t, seq, p, layer_offset, kv_width, true);
    for (int c = threadIdx.x; c < kv_width; c += blockDim.x)
    {
        kd[c] = f2h(k[(size_t)r * ld_k + c]);
        vd[c] = f2h(v[(size_t)r * ld_v + c]);
    }
}

#define ATT_MAX_OUT 8  // outputs (query head, channel) per thread: groups · head_dim ≤ 8 · threads

// Causal attention of one row over its sequence's cached positions for one KV head and the `groups` query heads
// that share it (grid: rows × kv_heads). The positions are walked in tiles of blockDim: each thread scores one
// position against every query head of the group (keys read once per tile), the tile's softmax statistics are
// folded into running maxima and sums (online softmax, float32), and each thread accumulates its (head, channel)
// outputs over the tile's values. Row r attends positions start .. pos[r] of its sequence, start = pos[r] + 1 − window
// when window > 0, else 0.
// Dynamic shared memory: groups·head_dim floats of queries + groups·blockDim floats of scores.
extern "C" __global__ void be_paged_attention(const float* q, int ld_q, float* out, int ld_out, StepTable t, int layer_offset,
    int kv_width, int kv_heads, int groups, int head_dim, float scale, int window)
{
    extern __shared__ float shared[];
    __shared__ float m_run[32], l_run[32], alpha[32];
    float* qs = shared;                          // [groups][head_dim]
    float* s = shared + groups * head_dim;       // [groups][T]
    const int T = blockDim.x, tid = threadIdx.x;
    const int r = blockIdx.x, kvh = blockIdx.y;
    const int seq = t.seq[r], pos = t.pos[r];
    const int start = window > 0 ? max(0, pos + 1 - window) : 0;
    const int outputs = groups * head_dim;
    const int h0 = kvh * groups; // first query head of the group

    for (int i = tid; i < outputs; i += T) qs[i] = q[(size_t)r * ld_q + h0 * head_dim + i] * scale;
    if (tid < groups) { m_run[tid] = NEG_INF; l_run[tid] = 0.f; }
    float acc[ATT_MAX_OUT];
#pragma unroll
    for (int u = 0; u < ATT_MAX_OUT; u++) acc[u] = 0.f;
    __syncthreads();

    for (int j0 = start; j0 <= pos; j0 += T)
    {
        int j = j0 + tid;
        // 1. scores of this thread's position against each query head of the group
        if (j <= pos)
        {
            const u16* key = kv_slot(t, seq, j, layer_offset, kv_width, false) + kvh * head_dim;
            for (int g = 0; g < groups; g++) s[g * T + tid] = 0.f;
            for (int d = 0; d < head_dim; d++)
            {
                float kd = h2f(key[d]);
                for (int g = 0; g < groups; g++) s[g * T + tid] += qs[g * head_dim + d] * kd;
            }
        }
        else
            for (int g = 0; g < groups; g++) s[g * T + tid] = NEG_INF;
        __syncthreads();
        // 2. per query head (one warp each, in turn): the tile's maximum, the running rescale, p = exp(s − m), the sum
        int warp = tid >> 5, lane = tid & 31, warps = T >> 5;
        for (int g = warp; g < groups; g += warps)
        {
            float mx = NEG_INF;
            for (int i = lane; i < T; i += 32) mx = fmaxf(mx, s[g * T + i]);
            mx = warp_max(mx);
            float m_new = fmaxf(m_run[g], mx);
            float sum = 0.f;
            for (int i = lane; i < T; i += 32)
            {
                float p = expf(s[g * T + i] - m_new);
                s[g * T + i] = p;
                sum += p;
            }
            sum = warp_sum(sum);
            if (lane == 0)
            {
                float a = expf(m_run[g] - m_new);
                alpha[g] = a;
                l_run[g] = l_run[g] * a + sum;
                m_run[g] = m_new;
            }
        }
        __syncthreads();
        // 3. this thread's outputs accumulate the tile's values weighted by p
        int count = min(T, pos + 1 - j0);
#pragma unroll
        for (int u = 0; u < ATT_MAX_OUT; u++)
        {
            int o = tid + u * T;
            if (o >= outputs) break;
            int g = o / head_dim, d = o % head_dim;
            float a = acc[u] * alpha[g];
            for (int i = 0; i < count; i++)
            {
                const u16* val = kv_slot(t, seq, j0 + i, layer_offset, kv_width, true) + kvh * head_dim;
                a += s[g * T + i] * h2f(val[d]);
            }
            acc[u] = a;
        }
        __syncthreads();
    }
#pragma unroll
    for (int u = 0; u < ATT_MAX_OUT; u++)
    {
        int o = tid + u * T;
        if (o >= outputs) break;
        int g = o / head_dim, d = o % head_dim;
        out[(size_t)r * ld_out + (h0 + g) * head_dim + d] = acc[u] / l_run[g];
    }
}
