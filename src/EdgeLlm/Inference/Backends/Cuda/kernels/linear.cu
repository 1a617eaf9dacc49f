// Decode-time linear layers: y = W·x for ONE token, W [n, k] in its stored dtype (never widened in
// memory), x and the accumulation in float32. The weights are streamed once per token, so the kernel is
// written for memory bandwidth: a block of 256 threads works on groups of R adjacent output rows (gemv4_: 4,
// gemv8_: 8) and splits their k columns over all its threads (a round of 16-byte chunks of every row is loaded
// before any is used), so even a matrix of few, wide rows (fc2, down_proj) spreads over every multiprocessor; more
// rows per group share each x load and the block's reduction over more bytes. The grid is persistent (a few blocks
// per multiprocessor, each running many groups, the next group's first loads in flight during the current one's
// reduction and epilogue); rows of one round keep the thread's chunks of x in registers ("x" kernels), others read x
// through L1 (all blocks of an SM share it).
//
// Two things a separate kernel would otherwise do can be folded in, each saving a launch per layer on the decode
// step's critical path:
//   * a second product into the same rows (the "t" kernels, w2 [n, k2] · x2): Phi's attention output and MLP
//     both add into the residual stream, so dense and fc2 run as one kernel over both products' columns;
//   * the norm before a projection (the "n" kernels, norm_mode 1 RMSNorm, 2 LayerNorm; an A/B switch). When the row is
//     one round of loads ("xn") the block's threads hold all of x and each block works out the statistics itself.
//     Otherwise they come from the kernel that last wrote x: every block of a residual-add product (the "s" kernels) leaves the float64 sum and
//     sum of squares of its rows in a slot, and the block that finishes last (a ticket taken after a memory fence)
//     adds the slots in a fixed order and writes mean, LayerNorm's and RMSNorm's 1/std (embed does the same for the
//     first layer); each block of the normed product then normalises x into shared memory in one pass.
// The epilogue does what follows the projection without another pass:
//   mode 0  y = W·x + bias
//   mode 1  y += W·x + bias (+ bias2)                      (residual add: o_proj, down_proj, fc2, dense)
//   mode 2  fused rows [q | k | v | f]: q and k rotated (rotary pairs sit in adjacent rows, see
//           rotary_source) and q written in float32, k and v written to the KV cache in float16 at the
//           position read from device memory; the f rows get the MLP activation (act 1: rows are
//           interleaved gate, up and f_out = silu(gate)·up; act 2: f_out = gelu_new(row)).

#define GEMV_WARPS 8
#define GEMV_PLAIN 0
#define GEMV_NORM 1
#define GEMV_TWO 2

struct GemvArgs
{
    const void* w;
    const float* x;
    const float* norm_w;   // the "n" kernels: the norm's weight [k] and, for LayerNorm, bias
    const float* norm_b;
    const float* bias;     // [n] or null
    float* y;
    float* q_out;
    u16* k_cache;          // this layer's cache, [capacity][kv_width]
    u16* v_cache;
    const int* pos;        // position of the token being decoded
    const float* inv_freq; // [rot_dim / 2]
    float* f_out;
    const void* w2;        // the second product (k2 > 0): w2 [n, k2] · x2, added into the same rows
    const float* x2;
    const float* bias2;    // [n] or null
    const float* norm_stats; // the "n" kernels: mean, 1/std (LayerNorm), 1/std (RMSNorm) of x
    double* stat_slots;    // mode 1, or null: per-block sums for the next norm (n / R slots of 2), ...
    u32* stat_ticket;      // ... the ticket of the block that finishes last, ...
    float* stats_out;      // ... and where it writes the statistics
    int n, k, k2;
    int norm_mode;         // 0 none, 1 RMSNorm, 2 LayerNorm
    int mode;
    int nq, nkv;           // mode 2: rows of q, and of k (= of v)
    int head_dim, rot_dim;
    int act;
    int kv_width;
    int vec;               // 1 when every row starts 16-byte aligned (k·size % 16 == 0, and k2·size)
    float eps;
};

// Returns, for mode 1, the rows' new values (for the norm statistics); 0 otherwise.
__device__ __forceinline__ float2 gemv_epilogue(const GemvArgs a, int r, float v0, float v1, bool has1)
{
    if (a.bias) { v0 += a.bias[r]; if (has1) v1 += a.bias[r + 1]; }
    if (a.bias2) { v0 += a.bias2[r]; if (has1) v1 += a.bias2[r + 1]; }
    if (a.mode == 0) { a.y[r] = v0; if (has1) a.y[r + 1] = v1; return make_float2(0.f, 0.f); }
    if (a.mode == 1)
    {
        float n0 = a.y[r] + v0, n1 = has1 ? a.y[r + 1] + v1 : 0.f;
        a.y[r] = n0;
        if (has1) a.y[r + 1] = n1;
        return make_float2(n0, n1);
    }
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
        return make_float2(0.f, 0.f);
    }
    if (r < a.nq + 2 * a.nkv)
    {
        u16* vc = a.v_cache + (size_t)pos * a.kv_width + (r - a.nq - a.nkv);
        vc[0] = f2h(v0); vc[1] = f2h(v1);
        return make_float2(0.f, 0.f);
    }
    int f = r - (a.nq + 2 * a.nkv);
    if (a.act == 1) a.f_out[f >> 1] = silu(v0) * v1;
    else { a.f_out[f] = gelu_new(v0); if (has1) a.f_out[f + 1] = gelu_new(v1); }
    return make_float2(0.f, 0.f);
}

// The norm statistics of a vector of k values from the sum and sum of squares (float64): out = mean, 1/std as
// LayerNorm takes it (variance about the mean), 1/std as RMSNorm takes it (mean square).
__device__ __forceinline__ void write_norm_stats(double s, double ss, int k, float eps, float* out)
{
    double mean = s / k, var = fmax(ss / k - mean * mean, 0.0);
    out[0] = (float)mean;
    out[1] = (float)(1.0 / sqrt(var + (double)eps));
    out[2] = (float)(1.0 / sqrt(ss / k + (double)eps));
}

// Called by every block of a residual-add product after the epilogue of its row group `slot` (of `slots`): the group's
// sums go to its slot; the block that takes the last ticket adds every slot (a fixed order: the same statistics
// whichever block is last). Block-uniform; every thread must call it.
template <int R>
__device__ __forceinline__ void gemv_norm_stats(const GemvArgs& a, float2 mine, int slot, int slots)
{
    __shared__ double part[R / 2][2];
    __shared__ double red[2][GEMV_WARPS];
    __shared__ bool last;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    if (tid < R / 2)
    {
        part[tid][0] = (double)mine.x + (double)mine.y;
        part[tid][1] = (double)mine.x * mine.x + (double)mine.y * mine.y;
    }
    __syncthreads();
    if (tid == 0)
    {
        double s = 0.0, ss = 0.0;
        for (int i = 0; i < R / 2; i++) { s += part[i][0]; ss += part[i][1]; }
        a.stat_slots[2 * slot] = s;
        a.stat_slots[2 * slot + 1] = ss;
        asm volatile("membar.gl;" ::: "memory");
        last = atomicAdd(a.stat_ticket, 1u) == (u32)(slots - 1);
        if (last) *a.stat_ticket = 0; // every group has its ticket: ready for the next product
    }
    __syncthreads();
    if (last)
    {
        double s = 0.0, ss = 0.0;
        for (int i = tid; i < slots; i += blockDim.x) { s += load_l2_f64(a.stat_slots + 2 * i); ss += load_l2_f64(a.stat_slots + 2 * i + 1); }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) { s += __shfl_xor_sync(0xffffffffu, s, o); ss += __shfl_xor_sync(0xffffffffu, ss, o); }
        if (lane == 0) { red[0][warp] = s; red[1][warp] = ss; }
        __syncthreads();
        if (tid == 0)
        {
            s = 0.0; ss = 0.0;
            for (int w = 0; w < GEMV_WARPS; w++) { s += red[0][w]; ss += red[1][w]; }
            write_norm_stats(s, ss, a.n, a.eps, a.stats_out);
        }
    }
}

// xs [k] = norm(x) in shared memory, from the statistics the last writer of x left (one pass, no reduction).
__device__ __forceinline__ void gemv_norm_into(const GemvArgs& a, float4* xs)
{
    const float4* x = (const float4*)a.x;
    const float4* w = (const float4*)a.norm_w;
    const float4* b = (const float4*)a.norm_b;
    const float mean = a.norm_mode == 1 ? 0.f : a.norm_stats[0], rstd = a.norm_stats[a.norm_mode == 1 ? 2 : 1];
    for (int i = threadIdx.x; i < a.k / 4; i += blockDim.x)
    {
        float4 v = x[i], g = w[i], o;
        if (a.norm_mode == 1) { o.x = v.x * rstd * g.x; o.y = v.y * rstd * g.y; o.z = v.z * rstd * g.z; o.w = v.w * rstd * g.w; }
        else
        {
            float4 h = b[i];
            o.x = (v.x - mean) * rstd * g.x + h.x; o.y = (v.y - mean) * rstd * g.y + h.y;
            o.z = (v.z - mean) * rstd * g.z + h.z; o.w = (v.w - mean) * rstd * g.w + h.w;
        }
        xs[i] = o;
    }
    __syncthreads();
}

// Row `row` of the first or second product (rows past n repeat the last one, unused).
template <int DT, bool TWO>
__device__ __forceinline__ const uint4* gemv_row(const GemvArgs& a, int row, bool second)
{
    const size_t esize = DT == 2 ? 4 : 2;
    row = min(row, a.n - 1);
    if (TWO && second) return (const uint4*)((const char*)a.w2 + (size_t)row * a.k2 * esize);
    return (const uint4*)((const char*)a.w + (size_t)row * a.k * esize);
}

// Sums each row's partial products over the block, then the epilogue (threads 0 … R/2 − 1, a row pair each) and, for STATS,
// the next norm's statistics. red is the block's scratch for this group.
template <int R, bool STATS>
__device__ __forceinline__ void gemv_finish(const GemvArgs& a, int g, int groups, const float (&acc)[R], float (&red)[R][GEMV_WARPS])
{
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int r0 = g * R, rows = min(R, a.n - r0);
#pragma unroll
    for (int i = 0; i < R; i++)
    {
        float t = warp_sum(acc[i]);
        if (lane == 0) red[i][warp] = t;
    }
    __syncthreads();
    float2 written = make_float2(0.f, 0.f);
    if (tid < R / 2 && 2 * tid < rows)
    {
        float s0 = 0.f, s1 = 0.f;
#pragma unroll
        for (int w = 0; w < GEMV_WARPS; w++) { s0 += red[2 * tid][w]; s1 += red[2 * tid + 1][w]; }
        written = gemv_epilogue(a, r0 + 2 * tid, s0, s1, 2 * tid + 1 < rows);
    }
    if (STATS) gemv_norm_stats<R>(a, written, g, groups);
}

// One round of a row group's 16-byte chunks (chunk c0 + u · T of each of its R rows) into v; chunks past k / E belong
// to the second product.
template <int DT, int R, int U, bool TWO>
__device__ __forceinline__ void gemv_load_round(const GemvArgs& a, int g, int c0, int c1, int chunks, uint4 (&v)[R][U])
{
    constexpr int T = GEMV_WARPS * 32;
#pragma unroll
    for (int u = 0; u < U; u++)
    {
        int c = c0 + u * T;
        if (c < chunks)
#pragma unroll
            for (int i = 0; i < R; i++)
            {
                bool second = TWO && c >= c1;
                v[i][u] = load_stream(gemv_row<DT, TWO>(a, g * R + i, second) + (second ? c - c1 : c));
            }
    }
}

// x's chunk c (E floats) of the first or second input, from global memory or the block's normed copy in shared memory.
template <int E, int V>
__device__ __forceinline__ void gemv_x_chunk(const GemvArgs& a, const float4* x1, int c, int c1, float (&xv)[E])
{
    const float4* xp = V != GEMV_TWO || c < c1 ? x1 + c * E / 4 : (const float4*)a.x2 + (c - c1) * E / 4;
#pragma unroll
    for (int e = 0; e < E; e += 4)
    {
        float4 t = V == GEMV_NORM ? xp[e / 4] : __ldg(xp + e / 4);
        xv[e] = t.x; xv[e + 1] = t.y; xv[e + 2] = t.z; xv[e + 3] = t.w;
    }
}

// The one-round kernels with a norm: the block's threads hold every chunk of x between them (xr, raw), so the block
// works out the norm's statistics itself, as norm_rows does (float32, LayerNorm about the mean), and norms its chunks
// in registers: no statistics from the kernel before, no normed copy in memory.
template <int U, int E>
__device__ __forceinline__ void gemv_norm_registers(const GemvArgs& a, int chunks, float (&xr)[U][E])
{
    constexpr int T = GEMV_WARPS * 32;
    __shared__ float red[GEMV_WARPS];
    const int tid = threadIdx.x;
    float mean = 0.f;
    if (a.norm_mode == 2)
    {
        float s = 0.f;
#pragma unroll
        for (int u = 0; u < U; u++)
            if (tid + u * T < chunks)
#pragma unroll
                for (int e = 0; e < E; e++) s += xr[u][e];
        mean = block_sum(s, red) / a.k;
    }
    float ss = 0.f;
#pragma unroll
    for (int u = 0; u < U; u++)
        if (tid + u * T < chunks)
#pragma unroll
            for (int e = 0; e < E; e++) { float d = xr[u][e] - mean; ss += d * d; }
    const float rstd = rsqrtf(block_sum(ss, red) / a.k + a.eps);
#pragma unroll
    for (int u = 0; u < U; u++)
    {
        int c = tid + u * T;
        if (c >= chunks) continue;
#pragma unroll
        for (int e = 0; e < E; e++)
        {
            int i = c * E + e;
            xr[u][e] = a.norm_mode == 1 ? xr[u][e] * rstd * a.norm_w[i] : (xr[u][e] - mean) * rstd * a.norm_w[i] + a.norm_b[i];
        }
    }
}

template <int DT, int R, int U>
__device__ __forceinline__ void gemv_fma(const uint4 (&v)[R][U], int u, const float* xv, float (&acc)[R])
{
    constexpr int E = Vec16<DT>::N;
#pragma unroll
    for (int i = 0; i < R; i++)
    {
        float f[E];
        unpack16<DT>(v[i][u], f);
#pragma unroll
        for (int e = 0; e < E; e++) acc[i] = fmaf(f[e], xv[e], acc[i]);
    }
}

// R consecutive rows per group (R even: the epilogue takes row pairs), U 16-byte chunks of each row in flight per thread.
// V: GEMV_PLAIN, GEMV_NORM (x normed first), GEMV_TWO (chunks past k / E belong to the second product). STATS: a residual
// add that leaves the next norm's statistics (stat_slots). ONE: every row is one round of chunks (k / E + k2 / E <= U · 256,
// vectorised rows only), so each thread's chunks of x are the same in every group and stay in registers (for GEMV_NORM
// normed there with statistics the block works out itself, gemv_norm_registers); otherwise x is read through L1 each round (GEMV_NORM: normed into shared memory once per block).
//
// A block runs the groups blockIdx.x, + gridDim.x, …: launched with one block per group it is the plain kernel; with a
// grid that fits on the GPU at once (a persistent grid) the first round of the next group is loaded before the current
// group's reduction and epilogue, so the block's loads are in flight the whole time.
template <int DT, int R, int V, bool STATS, bool ONE>
__device__ __forceinline__ void gemv(const GemvArgs a)
{
    constexpr int U = 2, T = GEMV_WARPS * 32, E = Vec16<DT>::N; // U: CudaEngine.GemvChunksPerRound = U · 256
    constexpr bool TWO = V == GEMV_TWO;
    __shared__ float red[2][R][GEMV_WARPS]; // by the parity of the block's group count: one barrier per group
    extern __shared__ float4 gemv_xs[];     // GEMV_NORM without ONE: the normed x, k floats
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int groups = (a.n + R - 1) / R;
    pdl_launch_dependents();
    if (!a.vec)
    {
        // Rows not 16-byte aligned (odd widths of small fixtures): one element at a time, one group per block.
        pdl_wait();
        for (int g = blockIdx.x; g < groups; g += gridDim.x)
        {
            float acc[R];
#pragma unroll
            for (int i = 0; i < R; i++) acc[i] = 0.f;
            for (int c = tid; c < a.k; c += blockDim.x)
            {
                float xv = a.x[c];
#pragma unroll
                for (int i = 0; i < R; i++) acc[i] = fmaf(load_one<DT>(gemv_row<DT, TWO>(a, g * R + i, false), c), xv, acc[i]);
            }
            if (TWO)
                for (int c = tid; c < a.k2; c += blockDim.x)
                {
                    float xv = a.x2[c];
#pragma unroll
                    for (int i = 0; i < R; i++) acc[i] = fmaf(load_one<DT>(gemv_row<DT, TWO>(a, g * R + i, true), c), xv, acc[i]);
                }
            gemv_finish<R, STATS>(a, g, groups, acc, red[0]);
            __syncthreads();
        }
        return;
    }
    const int c1 = a.k / E, chunks = c1 + (TWO ? a.k2 / E : 0);
    const float4* x1 = V == GEMV_NORM && !ONE ? gemv_xs : (const float4*)a.x;
    uint4 v[R][U];
    int g = blockIdx.x;
    // The first round of weight loads is issued before waiting for the kernel that writes x (programmatic dependent
    // launch, common.cuh).
    if (g < groups) gemv_load_round<DT, R, U, TWO>(a, g, tid, c1, chunks, v);
    pdl_wait();
    float xr[ONE ? U : 1][E];
    if constexpr (ONE)
    {
#pragma unroll
        for (int u = 0; u < U; u++)
            if (tid + u * T < chunks) gemv_x_chunk<E, V == GEMV_NORM ? GEMV_PLAIN : V>(a, x1, tid + u * T, c1, xr[u]);
        if constexpr (V == GEMV_NORM) gemv_norm_registers<U, E>(a, chunks, xr);
    }
    else if (V == GEMV_NORM) gemv_norm_into(a, gemv_xs);
    for (int parity = 0; g < groups; g += gridDim.x, parity ^= 1)
    {
        float acc[R];
#pragma unroll
        for (int i = 0; i < R; i++) acc[i] = 0.f;
        const int next = g + gridDim.x;
        if constexpr (ONE)
        {
#pragma unroll
            for (int u = 0; u < U; u++)
                if (tid + u * T < chunks) gemv_fma<DT, R, U>(v, u, xr[u], acc);
            if (next < groups) gemv_load_round<DT, R, U, TWO>(a, next, tid, c1, chunks, v);
        }
        else
            for (int c0 = tid; c0 < chunks;)
            {
#pragma unroll
                for (int u = 0; u < U; u++)
                {
                    int c = c0 + u * T;
                    if (c >= chunks) break;
                    float xv[E];
                    gemv_x_chunk<E, V>(a, x1, c, c1, xv);
                    gemv_fma<DT, R, U>(v, u, xv, acc);
                }
                c0 += U * T;
                if (c0 < chunks) gemv_load_round<DT, R, U, TWO>(a, g, c0, c1, chunks, v);
                else if (next < groups) gemv_load_round<DT, R, U, TWO>(a, next, tid, c1, chunks, v);
            }
        gemv_finish<R, STATS>(a, g, groups, acc, red[parity]);
    }
}

#define GEMV_INSTANCE(name, DT, R, V, STATS, ONE) extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32) name(const GemvArgs a) { gemv<DT, R, V, STATS, ONE>(a); }
#define GEMV_DTYPES(prefix, R, V, STATS, ONE) \
    GEMV_INSTANCE(prefix##_f16, 0, R, V, STATS, ONE) GEMV_INSTANCE(prefix##_bf16, 1, R, V, STATS, ONE) GEMV_INSTANCE(prefix##_f32, 2, R, V, STATS, ONE)
#define GEMV_VARIANTS(prefix, R, ONE) \
    GEMV_DTYPES(prefix, R, GEMV_PLAIN, false, ONE) GEMV_DTYPES(prefix##s, R, GEMV_PLAIN, true, ONE) GEMV_DTYPES(prefix##n, R, GEMV_NORM, false, ONE) \
    GEMV_DTYPES(prefix##t, R, GEMV_TWO, false, ONE) GEMV_DTYPES(prefix##ts, R, GEMV_TWO, true, ONE)
// gemv{R}{n|t}{s}[x]_{dtype}: x marks the one-round kernels.
GEMV_VARIANTS(gemv4, 4, false) GEMV_VARIANTS(gemv4x, 4, true)
GEMV_VARIANTS(gemv8, 8, false) GEMV_VARIANTS(gemv8x, 8, true)

