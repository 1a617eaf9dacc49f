// Decode-time linear layers: y = W·x for ONE token, W [n, k] in its stored dtype (never widened in
// memory), x and the accumulation in float32. The weights are streamed once per token, so the kernel is
// written for memory bandwidth: a block of 256 threads owns R adjacent output rows (gemv_: 2, gemv4_: 4,
// gemv8_: 8) and splits their k columns over all its threads (a round of 16-byte chunks of every row is
// loaded before any is used, eight loads in flight per thread), so even a matrix of few, wide rows (fc2,
// down_proj) spreads over every multiprocessor; more rows per block share each x load and the block's
// start and reduction over more bytes. x is read through L1 (all blocks of an SM share it). The epilogue does what
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

// R consecutive rows per block (R even: the epilogue takes row pairs), U 16-byte chunks of each row in flight per thread.
template <int DT, int R>
__device__ __forceinline__ void gemv(const GemvArgs a)
{
    constexpr int U = R >= 4 ? 2 : 4;
    __shared__ float red[R][GEMV_WARPS];
    const int k = a.k, tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int r0 = blockIdx.x * R;
    if (r0 >= a.n) return;
    const int rows = min(R, a.n - r0);
    const size_t esize = DT == 2 ? 4 : 2;
    const char* wr[R];
#pragma unroll
    for (int i = 0; i < R; i++) wr[i] = (const char*)a.w + (size_t)(r0 + min(i, rows - 1)) * k * esize; // past n: row repeated, unused
    float acc[R];
#pragma unroll
    for (int i = 0; i < R; i++) acc[i] = 0.f;
    pdl_launch_dependents();
    if (a.vec)
    {
        const int E = Vec16<DT>::N, chunks = k / E, T = GEMV_WARPS * 32;
        const float4* x4 = (const float4*)a.x;
        // The first round of weight loads is issued before waiting for the kernel that writes x (programmatic
        // dependent launch, common.cuh): on short rows (up to U · 256 chunks) that is all of the block's weights.
        uint4 v[R][U];
        int c0 = tid;
#pragma unroll
        for (int u = 0; u < U; u++)
            if (c0 + u * T < chunks)
#pragma unroll
                for (int i = 0; i < R; i++) v[i][u] = load_stream((const uint4*)wr[i] + c0 + u * T);
        pdl_wait();
        while (c0 < chunks)
        {
#pragma unroll
            for (int u = 0; u < U; u++)
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
#pragma unroll
                for (int i = 0; i < R; i++)
                {
                    unpack16<DT>(v[i][u], f);
#pragma unroll
                    for (int e = 0; e < E; e++) acc[i] = fmaf(f[e], xv[e], acc[i]);
                }
            }
            c0 += U * T;
#pragma unroll
            for (int u = 0; u < U; u++)
                if (c0 + u * T < chunks)
#pragma unroll
                    for (int i = 0; i < R; i++) v[i][u] = load_stream((const uint4*)wr[i] + c0 + u * T);
        }
    }
    else
    {
        pdl_wait();
        for (int c = tid; c < k; c += blockDim.x)
        {
            float xv = a.x[c];
#pragma unroll
            for (int i = 0; i < R; i++) acc[i] = fmaf(load_one<DT>(wr[i], c), xv, acc[i]);
        }
    }
#pragma unroll
    for (int i = 0; i < R; i++)
    {
        float t = warp_sum(acc[i]);
        if (lane == 0) red[i][warp] = t;
    }
    __syncthreads();
    if (tid < R / 2 && 2 * tid < rows)
    {
        float s0 = 0.f, s1 = 0.f;
#pragma unroll
        for (int w = 0; w < GEMV_WARPS; w++) { s0 += red[2 * tid][w]; s1 += red[2 * tid + 1][w]; }
        gemv_epilogue(a, r0 + 2 * tid, s0, s1, 2 * tid + 1 < rows);
    }
}

#define GEMV_INSTANCE(name, DT, R) extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32) name(const GemvArgs a) { gemv<DT, R>(a); }
GEMV_INSTANCE(gemv_f16, 0, 2) GEMV_INSTANCE(gemv_bf16, 1, 2) GEMV_INSTANCE(gemv_f32, 2, 2)
GEMV_INSTANCE(gemv4_f16, 0, 4) GEMV_INSTANCE(gemv4_bf16, 1, 4) GEMV_INSTANCE(gemv4_f32, 2, 4)
GEMV_INSTANCE(gemv8_f16, 0, 8) GEMV_INSTANCE(gemv8_bf16, 1, 8) GEMV_INSTANCE(gemv8_f32, 2, 8)
