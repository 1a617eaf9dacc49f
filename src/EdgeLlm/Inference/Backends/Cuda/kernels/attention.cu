// Attention over the float16 KV cache, laid out per layer as [position][kv_head · head_dim].
//
// Decode (one new token): flash-decoding. The cache is cut into splits of ATT_SPLIT positions (short, so
// each warp walks only two rounds of ATT_KEYS positions and the kernel ends before load latencies add up); block
// (head, split) runs an online softmax over its split (each of its 4 warps takes ATT_KEYS consecutive positions
// at a time, issues their key and value loads together, and reduces each q·k dot product with shuffles) and
// leaves the split's running max, sum and unnormalised output. The splits are then combined (rescaled and
// added) by the last block of the head to finish (a counter per head, taken after a memory fence; it resets the
// counter for the next step), or, with no counters given, by attn_decode_combine. Both read the length from
// device memory and the grid covers the cache's whole capacity (blocks past the length leave an empty split),
// so one captured graph serves every step. Grouped-query attention: head h reads key/value head
// h / (heads / kv_heads). D = registers per lane for one head vector: head_dim <= 32 · D.
//
// Prefill (many rows) runs as cuBLAS GEMMs S = Q·Kᵀ and O = P·V per key/value head (the engine's
// CudaAttention), with attn_softmax_rows between them: a causal softmax in float32 writing P in float16.

#define ATT_SPLIT 32
#define ATT_WARPS 4
#ifndef ATT_KEYS
#define ATT_KEYS 4      // positions a warp has in flight at once (EDGELLM_CUDA_DEFINES=ATT_KEYS=8 for A/B runs)
#endif

// The decode attention's inputs, for the attention kernel and for the matrix-vector kernel that runs it beside Phi's fc1.
struct AttnDecode
{
    const float* q;
    const u16* kc;
    const u16* vc;
    const int* pos;
    float* part;    // [heads][splits][head_dim + 2]: each split's unnormalised output, running max and sum
    u32* done;      // one counter per head, or null: combine with attn_decode_combine
    float* out;
    int heads, kv_heads, head_dim, kv_width, splits;
    float scale;
};

// What the ATT_WARPS warps of one split share: each warp's running max, sum and output, and whether the split is its head's last.
template <int D>
struct AttnShared
{
    float m[ATT_WARPS], l[ATT_WARPS];
    float acc[ATT_WARPS][D * 32];
    bool last;
};

// A barrier over the ATT_WARPS warps of one split (named barrier `id`, so two splits can share a block).
__device__ __forceinline__ void attn_bar(int id) { asm volatile("bar.sync %0, %1;" ::"r"(id), "n"(ATT_WARPS * 32) : "memory"); }

// out[h] = the splits of head h combined: sum over splits of o_s · exp(m_s - M), divided by sum of l_s · exp(m_s - M).
// Threads t, t + stride, … of the caller take the channels.
__device__ __forceinline__ void attn_combine_head(const float* part, int h, int used, int splits, int head_dim, float* out, int t, int stride)
{
    const float* p = part + (size_t)h * splits * (head_dim + 2);
    float M = NEG_INF;
    for (int s = 0; s < used; s++) M = fmaxf(M, load_l2(p + s * (head_dim + 2) + head_dim));
    float L = 0.f;
    for (int s = 0; s < used; s++) L += load_l2(p + s * (head_dim + 2) + head_dim + 1) * expf(load_l2(p + s * (head_dim + 2) + head_dim) - M);
    for (int d = t; d < head_dim; d += stride)
    {
        float o = 0.f;
        for (int s = 0; s < used; s++) o += load_l2(p + s * (head_dim + 2) + d) * expf(load_l2(p + s * (head_dim + 2) + head_dim) - M);
        out[h * head_dim + d] = o / L;
    }
}

// Split s of head h, by threads t = 0 … ATT_WARPS · 32 − 1 (barrier `bar`); with counters, the head's last split to finish
// combines them. The caller has waited for q and the new position's key and value.
template <int D>
__device__ __forceinline__ void attn_decode_split(const AttnDecode& a, int h, int s, int t, int bar, AttnShared<D>& sh)
{
    const int lane = t & 31, warp = t >> 5;
    const int len = *a.pos + 1, start = s * ATT_SPLIT, end = min(start + ATT_SPLIT, len);
    const int used = (len + ATT_SPLIT - 1) / ATT_SPLIT;
    const int kvh = h / (a.heads / a.kv_heads), head_dim = a.head_dim;
    float* out = a.part + ((size_t)h * a.splits + s) * (head_dim + 2);
    if (s < used)
    {
        float qv[D], acc[D];
#pragma unroll
        for (int i = 0; i < D; i++)
        {
            int d = lane + 32 * i;
            qv[i] = d < head_dim ? a.q[h * head_dim + d] * a.scale : 0.f;
            acc[i] = 0.f;
        }
        float m = NEG_INF, l = 0.f;
        for (int j0 = start + warp * ATT_KEYS; j0 < end; j0 += ATT_WARPS * ATT_KEYS)
        {
            // Every key and value load of the warp's ATT_KEYS positions is issued before the first is used.
            float kv[ATT_KEYS][D], vv[ATT_KEYS][D];
#pragma unroll
            for (int u = 0; u < ATT_KEYS; u++)
            {
                size_t row = (size_t)min(j0 + u, end - 1) * a.kv_width + kvh * head_dim;
#pragma unroll
                for (int i = 0; i < D; i++)
                {
                    int d = lane + 32 * i;
                    kv[u][i] = d < head_dim ? h2f(a.kc[row + d]) : 0.f;
                    vv[u][i] = d < head_dim ? h2f(a.vc[row + d]) : 0.f;
                }
            }
            float dots[ATT_KEYS];
#pragma unroll
            for (int u = 0; u < ATT_KEYS; u++)
            {
                float dot = 0.f;
#pragma unroll
                for (int i = 0; i < D; i++) dot = fmaf(qv[i], kv[u][i], dot);
                dots[u] = j0 + u < end ? warp_sum(dot) : NEG_INF;
            }
            float mn = m;
#pragma unroll
            for (int u = 0; u < ATT_KEYS; u++) mn = fmaxf(mn, dots[u]);
            float corr = expf(m - mn);
            l *= corr;
#pragma unroll
            for (int i = 0; i < D; i++) acc[i] *= corr;
#pragma unroll
            for (int u = 0; u < ATT_KEYS; u++)
            {
                float p = j0 + u < end ? expf(dots[u] - mn) : 0.f;
                l += p;
#pragma unroll
                for (int i = 0; i < D; i++) acc[i] = fmaf(p, vv[u][i], acc[i]);
            }
            m = mn;
        }
        if (lane == 0) { sh.m[warp] = m; sh.l[warp] = l; }
#pragma unroll
        for (int i = 0; i < D; i++) sh.acc[warp][lane + 32 * i] = acc[i];
        attn_bar(bar);
        float M = NEG_INF;
        for (int w = 0; w < ATT_WARPS; w++) M = fmaxf(M, sh.m[w]);
        for (int d = t; d < head_dim; d += ATT_WARPS * 32)
        {
            float o = 0.f;
            for (int w = 0; w < ATT_WARPS; w++) if (sh.m[w] != NEG_INF) o += sh.acc[w][d] * expf(sh.m[w] - M);
            out[d] = o;
        }
        if (t == 0)
        {
            float L = 0.f;
            for (int w = 0; w < ATT_WARPS; w++) if (sh.m[w] != NEG_INF) L += sh.l[w] * expf(sh.m[w] - M);
            out[head_dim] = M;
            out[head_dim + 1] = L;
        }
    }
    if (!a.done) return;
    asm volatile("membar.gl;" ::: "memory"); // this split's partial reaches L2 before its ticket is taken
    attn_bar(bar);
    if (t == 0)
    {
        sh.last = atomicAdd(a.done + h, 1u) == (u32)(a.splits - 1);
        if (sh.last) a.done[h] = 0; // every split of the head has taken its ticket: ready for the next step
    }
    attn_bar(bar);
    if (sh.last) attn_combine_head(a.part, h, used, a.splits, head_dim, a.out, t, ATT_WARPS * 32);
}

// Block (head, split), ATT_WARPS warps.
template <int D>
__device__ __forceinline__ void attn_decode(const AttnDecode a)
{
    __shared__ AttnShared<D> sh;
    pdl_launch_dependents();
    pdl_wait();
    attn_decode_split<D>(a, blockIdx.x, blockIdx.y, threadIdx.x, 1, sh);
}

#define ATT_DECODE_ARGS const float* q, const u16* kc, const u16* vc, const int* pos, float* part, u32* done, float* attn_out, \
    int heads, int kv_heads, int head_dim, int kv_width, int splits, float scale
#define ATT_DECODE_PASS AttnDecode{q, kc, vc, pos, part, done, attn_out, heads, kv_heads, head_dim, kv_width, splits, scale}
extern "C" __global__ void __launch_bounds__(ATT_WARPS * 32) attn_decode_d4(ATT_DECODE_ARGS) { attn_decode<4>(ATT_DECODE_PASS); }
extern "C" __global__ void __launch_bounds__(ATT_WARPS * 32) attn_decode_d8(ATT_DECODE_ARGS) { attn_decode<8>(ATT_DECODE_PASS); }

// The splits' combine as its own kernel (attn_decode_* given no counters): one block per head.
extern "C" __global__ void attn_decode_combine(const float* part, const int* pos, float* out, int head_dim, int splits)
{
    pdl_launch_dependents();
    pdl_wait();
    const int len = *pos + 1, used = min(splits, (len + ATT_SPLIT - 1) / ATT_SPLIT);
    attn_combine_head(part, blockIdx.x, used, splits, head_dim, out, threadIdx.x, blockDim.x);
}

// Causal softmax of S = scale·Q·Kᵀ for a prefill chunk (the fused engine's, and the backend's prompt chunks). S and P are
// [kv_heads][groups·rows][keys]: row r of a key/value head is query head group r / rows, chunk row t = r % rows, at position
// start + t, which sees keys 0 … start + t, and with window > 0 only those above start + t − window. One block per row;
// float32 throughout, P stored in float16 (zeros at the keys the row does not see).
extern "C" __global__ void attn_softmax_rows(const float* S, u16* P, int rows, int keys, int start, int window)
{
    __shared__ float red[32];
    const size_t row = blockIdx.x;
    const int pos = start + (int)(row % rows), hi = min(keys, pos + 1), lo = window > 0 ? max(0, pos - window + 1) : 0;
    const float* s = S + row * keys;
    u16* p = P + row * keys;
    float m = NEG_INF;
    for (int j = lo + threadIdx.x; j < hi; j += blockDim.x) m = fmaxf(m, s[j]);
    m = block_max(m, red);
    float sum = 0.f;
    for (int j = lo + threadIdx.x; j < hi; j += blockDim.x) sum += expf(s[j] - m);
    sum = block_sum(sum, red);
    float inv = 1.f / sum;
    for (int j = threadIdx.x; j < keys; j += blockDim.x) p[j] = f2h(j >= lo && j < hi ? expf(s[j] - m) * inv : 0.f);
}

// O [heads][rows][head_dim] (float32, head-major from the P·V GEMM) -> [rows][heads·head_dim] in dtype DT,
// the input of the output projection's GEMM.
template <int DT>
__device__ __forceinline__ void attn_gather(const float* O, void* out, int heads, int rows, int head_dim)
{
    long long total = (long long)heads * rows * head_dim;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
    {
        int d = (int)(i % head_dim);
        long long rest = i / head_dim;
        int h = (int)(rest % heads), t = (int)(rest / heads);
        store_one<DT>(out, i, O[((long long)h * rows + t) * head_dim + d]);
    }
}
extern "C" __global__ void attn_gather_f16(const float* O, void* out, int heads, int rows, int head_dim) { attn_gather<0>(O, out, heads, rows, head_dim); }
extern "C" __global__ void attn_gather_bf16(const float* O, void* out, int heads, int rows, int head_dim) { attn_gather<1>(O, out, heads, rows, head_dim); }
extern "C" __global__ void attn_gather_f32(const float* O, void* out, int heads, int rows, int head_dim) { attn_gather<2>(O, out, heads, rows, head_dim); }
