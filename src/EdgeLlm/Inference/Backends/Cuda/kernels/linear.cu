// Decode-time linear layers: y = W·x for ONE token, W [n, k] in its stored dtype (never widened in
// memory), x and the accumulation in float32. The weights are streamed once per token, so the kernel is
// written for memory bandwidth: a block of 256 threads owns two adjacent output rows and splits their k
// columns over all its threads (every 16-byte chunk of both rows is loaded before any is used, up to
// eight loads in flight per thread), so even a matrix of few, wide rows (fc2, down_proj) spreads over
// every multiprocessor. x is read through L1 (all blocks of an SM share it). The epilogue does what
// follows the projection without another pass:
//   mode 0  y = W·x + bias
//   mode 1  y += W·x + bias                                (residual add: o_proj, down_proj, fc2, dense)
//   mode 2  fused rows [q | k | v | f]: q and k rotated (rotary pairs sit in adjacent rows, see
//           rotary_source) and q written in float32, k and v written to the KV cache in float16 at the
//           position read from device memory; the f rows get the MLP activation (act 1: rows are
//           interleaved gate, up and f_out = silu(gate)·up; act 2: f_out = gelu_new(row)).
// The norm before a projection is its own small kernel (norm_rows_f32), run once per token, not per block.

#define GEMV_WARPS 8

struct GemvArgs
{
    const void* w;
    const float* x;
    const float* norm_w;   // unused (the norm is its own kernel); kept so the layout stays one with the C# side
    const float* norm_b;
    const float* bias;     // [n] or null
    float* y;
    float* q_out;
    u16* k_cache;          // this layer's cache, [capacity][kv_width]
    u16* v_cache;
    const int* pos;        // position of the token being decoded
    const float* inv_freq; // [rot_dim / 2]
    float* f_out;
    int n, k;
    int norm_mode;         // 0 none, 1 RMSNorm, 2 LayerNorm
    int mode;
    int nq, nkv;           // mode 2: rows of q, and of k (= of v)
    int head_dim, rot_dim;
    int act;
    int kv_width;
    int vec;               // 1 when every row starts 16-byte aligned (k·size % 16 == 0)
    float eps;
};

__device__ __forceinline__ void gemv_epilogue(const GemvArgs a, int r, float v0, float v1, bool has1)
{
    if (a.bias) { v0 += a.bias[r]; if (has1) v1 += a.bias[r + 1]; }
    if (a.mode == 0) { a.y[r] = v0; if (has1) a.y[r + 1] = v1; return; }
    if (a.mode == 1) { a.y[r] += v0; if (has1) a.y[r + 1] += v1; return; }
    int pos = *a.pos;
    if (r < a.nq + a.nkv)
    {
        bool isk = r >= a.nq;
        int p = isk ? r - a.nq : r;
        int head = p / a.head_dim, c = p % a.head_dim, o0, o1;
        rotary_source(c, a.rot_dim, &o0, &o1);
        if (c < a.rot_dim) rotate_pair(&v0, &v1, pos, a.inv_freq[c >> 1]);
        if (!isk) { a.q_out[head * a.head_dim + o0] = v0; a.q_out[head * a.head_dim + o1] = v1; }
        else
        {
            u16* kc = a.k_cache + (size_t)pos * a.kv_width + head * a.head_dim;
            kc[o0] = f2h(v0); kc[o1] = f2h(v1);
        }
        return;
    }
    if (r < a.nq + 2 * a.nkv)
    {
        u16* vc = a.v_cache + (size_t)pos * a.kv_width + (r - a.nq - a.nkv);
        vc[0] = f2h(v0); vc[1] = f2h(v1);
        return;
    }
    int f = r - (a.nq + 2 * a.nkv);
    if (a.act == 1) a.f_out[f >> 1] = silu(v0) * v1;
    else { a.f_out[f] = gelu_new(v0); if (has1) a.f_out[f + 1] = gelu_new(v1); }
}

template <int DT>
__device__ __forceinline__ void gemv(const GemvArgs a)
{
    __shared__ float red[2][GEMV_WARPS];
    const int k = a.k, tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int r = blockIdx.x * 2;
    if (r >= a.n) return;
    const bool has1 = r + 1 < a.n;
    const size_t esize = DT == 2 ? 4 : 2;
    const char* w0 = (const char*)a.w + (size_t)r * k * esize;
    const char* w1 = has1 ? w0 + (size_t)k * esize : w0;
    float acc0 = 0.f, acc1 = 0.f;
    pdl_launch_dependents();
    if (a.vec)
    {
        const int E = Vec16<DT>::N, chunks = k / E, T = GEMV_WARPS * 32;
        const uint4* p0 = (const uint4*)w0;
        const uint4* p1 = (const uint4*)w1;
        const float4* x4 = (const float4*)a.x;
        // The first round of weight loads is issued before waiting for the kernel that writes x (programmatic
        // dependent launch, common.cuh): on rows of up to 4 · 256 chunks (8,192 16-bit values) that is all of the block's weights.
        uint4 v0[4], v1[4];
        int c0 = tid;
#pragma unroll
        for (int u = 0; u < 4; u++)
            if (c0 + u * T < chunks) { v0[u] = load_stream(p0 + c0 + u * T); v1[u] = load_stream(p1 + c0 + u * T); }
        pdl_wait();
        while (c0 < chunks)
        {
#pragma unroll
            for (int u = 0; u < 4; u++)
            {
                int c = c0 + u * T;
                if (c >= chunks) break;
                float xv[E], f[E];
#pragma unroll
                for (int e = 0; e < E; e += 4)
                {
                    float4 t = __ldg(x4 + (c * E + e) / 4);
                    xv[e] = t.x; xv[e + 1] = t.y; xv[e + 2] = t.z; xv[e + 3] = t.w;
                }
                unpack16<DT>(v0[u], f);
#pragma unroll
                for (int e = 0; e < E; e++) acc0 = fmaf(f[e], xv[e], acc0);
                unpack16<DT>(v1[u], f);
#pragma unroll
                for (int e = 0; e < E; e++) acc1 = fmaf(f[e], xv[e], acc1);
            }
            c0 += 4 * T;
#pragma unroll
            for (int u = 0; u < 4; u++)
                if (c0 + u * T < chunks) { v0[u] = load_stream(p0 + c0 + u * T); v1[u] = load_stream(p1 + c0 + u * T); }
        }
    }
    else
    {
        pdl_wait();
        for (int i = tid; i < k; i += blockDim.x)
        {
            float xv = a.x[i];
            acc0 = fmaf(load_one<DT>(w0, i), xv, acc0);
            acc1 = fmaf(load_one<DT>(w1, i), xv, acc1);
        }
    }
    acc0 = warp_sum(acc0);
    acc1 = warp_sum(acc1);
    if (lane == 0) { red[0][warp] = acc0; red[1][warp] = acc1; }
    __syncthreads();
    if (tid == 0)
    {
        float s0 = 0.f, s1 = 0.f;
#pragma unroll
        for (int w = 0; w < GEMV_WARPS; w++) { s0 += red[0][w]; s1 += red[1][w]; }
        gemv_epilogue(a, r, s0, s1, has1);
    }
}

extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32) gemv_f16(const GemvArgs a) { gemv<0>(a); }
extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32) gemv_bf16(const GemvArgs a) { gemv<1>(a); }
extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32) gemv_f32(const GemvArgs a) { gemv<2>(a); }
