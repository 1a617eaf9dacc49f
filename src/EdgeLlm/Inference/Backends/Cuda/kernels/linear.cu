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
// A second product into the same rows can be folded in (the "t" kernels, w2 [n, k2] · x2), saving a launch per layer
// on the decode step's critical path: Phi's attention output and MLP both add into the residual stream, so dense and
// fc2 run as one kernel over both products' columns. The norm before a product can be folded into it (NORM below:
// the "n" kernels sum the statistics themselves, the "p" kernels take them from the residual-add product before,
// which also writes x·γ); CudaEngine.NormFold says where each model's norms run, as measured in docs/performance.md.
// The epilogue does what follows the projection without another pass:
//   mode 0  y = W·x + bias
//   mode 1  y += W·x + bias (+ bias2)                      (residual add: o_proj, down_proj, fc2, dense)
//   mode 2  fused rows [q | k | v | f]: q and k rotated (rotary pairs sit in adjacent rows, see
//           rotary_source) and q written in float32, k and v written to the KV cache in float16 at the
//           position read from device memory; the f rows get the MLP activation (act 1: rows are
//           interleaved gate, up and f_out = silu(gate)·up; act 2: f_out = gelu_new(row)).

#define GEMV_WARPS 8

struct GemvArgs
{
    const void* w;
    const float* x;
    const float* bias;     // [n] or null
    float* y;
    float* q_out;
    u16* k_cache;          // this layer's cache, [capacity][kv_width]
    u16* v_cache;
    const int* pos;        // position of the token being decoded
    const float2* rotation; // [rot_dim / 2]: (cos, sin) of the step's position (decode_embed), so that no sincosf is
                            // compiled in: its slow path cost every instance 32 B of stack and 16–20 registers
    float* f_out;
    const void* w2;        // the second product (k2 > 0): w2 [n, k2] · x2, added into the same rows
    const float* x2;
    const float* bias2;    // [n] or null
    int n, k, k2;
    int mode;
    int nq, nkv;           // mode 2: rows of q, and of k (= of v)
    int head_dim, rot_dim;
    int act;
    int kv_width;
    int vec;               // 1 when every row starts 16-byte aligned (k·size % 16 == 0, and k2·size)
    int late_trigger;      // 1: let the next kernel launch only once this one's input is complete (after its wait)
    int input_ready;       // 1: x was complete before the kernel before this one let it launch, so the rows do not wait
                           // (only beside attention blocks, which do: the next kernel's wait on this one must still
                           // imply the one before it has completed)
    // The "a" kernels: the first att_blocks blocks run the decode attention (two splits each, as attn_decode does them)
    // over q_out, k_cache, v_cache, pos, head_dim and kv_width; the rest run the row groups.
    float* att_part;
    u32* att_done;
    float* att_out;
    int att_blocks, att_heads, att_kv_heads, att_splits;
    float att_scale;
    // The "n" kernels fold the norm before the product into it (norm_w non-null): x is the raw residual stream, each row
    // group sums x² (and x) over the same chunks it multiplies, and the row's dot product of W with x·norm_w is scaled in
    // the epilogue by rstd (RMSNorm), or rstd · (dot − mean · norm_wg[r]) (LayerNorm, norm_mode 2: norm_wg = W·norm_w,
    // and the bias passed is bias + W·norm_b, both worked out at load). No norm kernel, and no wait for one, per layer.
    const float* norm_w;
    const float* norm_wg;
    int norm_mode;
    float norm_eps;
    // The "p" kernels take the norm's statistics from the kernel before instead: x is already x·γ (norm_xg below), and
    // norm_parts holds norm_part_count partial (Σx², Σx) pairs, summed by every block in the same order.
    const float2* norm_parts;
    int norm_part_count;
    // A residual-add product (mode 1) that feeds a norm: it also writes x·γ of the next norm (norm_next_w) into norm_xg and
    // one (Σx², Σx) pair per row group into norm_parts_out, so that the next product needs neither γ nor a norm kernel.
    const float* norm_next_w;
    float* norm_xg;
    float2* norm_parts_out;
};

// Leaves in v0, v1 what it wrote (mode 1: the new residual rows, from which gemv_finish sums the next norm's statistics).
__device__ __forceinline__ void gemv_epilogue(const GemvArgs a, int r, float& v0, float& v1, bool has1)
{
    if (a.bias) { v0 += a.bias[r]; if (has1) v1 += a.bias[r + 1]; }
    if (a.bias2) { v0 += a.bias2[r]; if (has1) v1 += a.bias2[r + 1]; }
    if (a.mode == 0) { a.y[r] = v0; if (has1) a.y[r + 1] = v1; return; }
    if (a.mode == 1)
    {
        v0 += a.y[r]; a.y[r] = v0;
        if (has1) { v1 += a.y[r + 1]; a.y[r + 1] = v1; }
        if (a.norm_xg) { a.norm_xg[r] = v0 * a.norm_next_w[r]; if (has1) a.norm_xg[r + 1] = v1 * a.norm_next_w[r + 1]; }
        return;
    }
    int pos = *a.pos;
    if (r < a.nq + a.nkv)
    {
        bool isk = r >= a.nq;
        int p = isk ? r - a.nq : r;
        int head = p / a.head_dim, c = p % a.head_dim, o0, o1;
        rotary_source(c, a.rot_dim, &o0, &o1);
        if (c < a.rot_dim) rotate_by(&v0, &v1, a.rotation[c >> 1]);
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

// The folded norm applied to rows r and r + 1 once x's sums are known: the mean and variance as norm_rows (kernels/rows.cu)
// works them out, the variance here as E[x²] − mean² (the residual stream's mean is small beside its spread).
__device__ __forceinline__ void gemv_norm_rows(const GemvArgs& a, int r, float ss, float sx, float* v0, float* v1, bool has1)
{
    const float mean = a.norm_mode == 2 ? sx / a.k : 0.f;
    const float rstd = rsqrtf(fmaxf(ss / a.k - mean * mean, 0.f) + a.norm_eps);
    if (a.norm_wg) { *v0 -= mean * a.norm_wg[r]; if (has1) *v1 -= mean * a.norm_wg[r + 1]; }
    *v0 *= rstd;
    *v1 *= rstd;
}

// The epilogue threads of group g (tid < R / 2, a row pair each) ask for the lines of its constant vectors (biases, the
// folded LayerNorm's W·γ, the next norm's γ) ahead of the epilogue, which otherwise waits on each of them in turn, from
// memory the weights have streamed through since the last step. Nothing else writes them, so this may precede the wait.
__device__ __forceinline__ void prefetch_l1(const float* p)
{
    asm volatile("prefetch.global.L1 [%0];" :: "l"(p));
}

template <int R>
__device__ __forceinline__ void gemv_prefetch_consts(const GemvArgs& a, int g)
{
    if (threadIdx.x >= R / 2) return;
    const int r = min(g * R + 2 * (int)threadIdx.x, a.n - 1);
    if (a.bias) prefetch_l1(a.bias + r);
    if (a.bias2) prefetch_l1(a.bias2 + r);
    if (a.norm_wg) prefetch_l1(a.norm_wg + r);
    if (a.norm_next_w) prefetch_l1(a.norm_next_w + r);
}

// The thread's share of the (Σx², Σx) pairs the kernel before left (the "p" kernels), in a fixed order.
__device__ __forceinline__ void gemv_parts(const GemvArgs& a, float& p0, float& p1)
{
    for (int i = threadIdx.x; i < a.norm_part_count; i += GEMV_WARPS * 32)
    {
        float2 p = a.norm_parts[i];
        p0 += p.x;
        p1 += p.y;
    }
}

// The thread's sums of a chunk of raw x (E values from column c · E), then the chunk times the norm's weights.
template <int E>
__device__ __forceinline__ void gemv_norm_chunk(const GemvArgs& a, int c, float (&xv)[E], float (&st)[2])
{
    const float4* gp = (const float4*)a.norm_w + c * E / 4;
#pragma unroll
    for (int e = 0; e < E; e += 4)
    {
        float4 g = __ldg(gp + e / 4);
        const float gv[4] = {g.x, g.y, g.z, g.w};
#pragma unroll
        for (int j = 0; j < 4; j++)
        {
            st[0] = fmaf(xv[e + j], xv[e + j], st[0]);
            st[1] += xv[e + j];
            xv[e + j] *= gv[j];
        }
    }
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

// Blocks before att_blocks run two attention splits each (threads 0–127 and 128–255, named barriers 1 and 2).
__device__ __forceinline__ void gemv_attention(const GemvArgs& a)
{
    __shared__ AttnShared<4> sh[2];
    pdl_launch_dependents();
    pdl_wait(); // q and the new position's key and value come from the kernel before
    const AttnDecode att{a.q_out, a.k_cache, a.v_cache, a.pos, a.att_part, a.att_done, a.att_out, a.att_heads, a.att_kv_heads,
        a.head_dim, a.kv_width, a.att_splits, a.att_scale};
    const int half = threadIdx.x / (ATT_WARPS * 32), item = 2 * blockIdx.x + half;
    if (item < a.att_heads * a.att_splits)
        attn_decode_split<4>(att, item / a.att_splits, item % a.att_splits, threadIdx.x % (ATT_WARPS * 32), 1 + half, sh[half]);
}

// Sums each row's partial products over the block, then the epilogue (threads 0 … R/2 − 1, a row pair each). red is
// the block's scratch for this group.
// S = 2 (the "n" kernels): st holds the thread's Σx² and Σx, reduced beside the rows, and the rows are normed
// (gemv_norm_rows); S = 0, st is not read.
template <int R, int S>
__device__ __forceinline__ void gemv_finish(const GemvArgs& a, int g, const float (&acc)[R], const float (&st)[2],
    float (&red)[R + S][GEMV_WARPS])
{
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int r0 = g * R, rows = min(R, a.n - r0);
#pragma unroll
    for (int i = 0; i < R + S; i++)
    {
        float t = warp_sum(i < R ? acc[i] : st[i - R]);
        if (lane == 0) red[i][warp] = t;
    }
    __syncthreads();
    if (tid < R / 2)
    {
        const bool live = 2 * tid < rows, has1 = 2 * tid + 1 < rows;
        float s0 = 0.f, s1 = 0.f;
        if (live)
        {
#pragma unroll
            for (int w = 0; w < GEMV_WARPS; w++) { s0 += red[2 * tid][w]; s1 += red[2 * tid + 1][w]; }
            if constexpr (S == 2)
            {
                float ss = 0.f, sx = 0.f;
#pragma unroll
                for (int w = 0; w < GEMV_WARPS; w++) { ss += red[R][w]; sx += red[R + 1][w]; }
                gemv_norm_rows(a, r0 + 2 * tid, ss, sx, &s0, &s1, has1);
            }
            gemv_epilogue(a, r0 + 2 * tid, s0, s1, has1);
        }
        if (a.norm_xg)
        {
            // The group's (Σx², Σx) of the new residual rows, over the R / 2 epilogue lanes in a fixed order.
            float ss = live ? s0 * s0 + (has1 ? s1 * s1 : 0.f) : 0.f, sx = live ? s0 + (has1 ? s1 : 0.f) : 0.f;
#pragma unroll
            for (int o = 1; o < R / 2; o <<= 1)
            {
                ss += __shfl_xor_sync((1u << (R / 2)) - 1, ss, o);
                sx += __shfl_xor_sync((1u << (R / 2)) - 1, sx, o);
            }
            if (tid == 0) a.norm_parts_out[g] = make_float2(ss, sx);
        }
    }
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

// x's chunk c (E floats) of the first or second input.
template <int E, bool TWO>
__device__ __forceinline__ void gemv_x_chunk(const GemvArgs& a, int c, int c1, float (&xv)[E])
{
    const float4* xp = !TWO || c < c1 ? (const float4*)a.x + c * E / 4 : (const float4*)a.x2 + (c - c1) * E / 4;
#pragma unroll
    for (int e = 0; e < E; e += 4)
    {
        float4 t = __ldg(xp + e / 4);
        xv[e] = t.x; xv[e + 1] = t.y; xv[e + 2] = t.z; xv[e + 3] = t.w;
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
// TWO: chunks past k / E belong to the second product. ONE: every row is one round of chunks (k / E + k2 / E <= U · 256,
// vectorised rows only), so each thread's chunks of x are the same in every group and stay in registers; otherwise x
// is read through L1 each round.
//
// A block runs the groups first, first + stride, … (blockIdx.x and gridDim.x less any attention blocks): launched with one block per group it is the plain kernel; with a
// grid that fits on the GPU at once (a persistent grid) the first round of the next group is loaded before the current
// group's reduction and epilogue, so the block's loads are in flight the whole time.
//
// ATT: the first att_blocks blocks run attention splits instead (gemv_attention), the row groups start after them.
// late_trigger and input_ready let Phi's decode step run attention beside fc1: q|k|v triggers the next launch only
// after its own wait (so the normed x is complete by then), and the fc1 rows of the next kernel start at once, while
// its attention blocks wait for q|k|v.
//
// NORM 1: the "n" kernels, the norm before the product folded in (GemvArgs.norm_w); every group's loop covers each chunk of
// x once, so its sums are the whole row's. NORM 2: the "p" kernels, x is x·γ and the sums come from the kernel before
// (norm_parts). One product, x through L1 only.
template <int DT, int R, bool TWO, bool ONE, bool ATT, int NORM>
__device__ __forceinline__ void gemv(const GemvArgs a)
{
    static_assert(!NORM || (!TWO && !ONE), "the folded norm reads one x through L1");
    constexpr int U = 2, T = GEMV_WARPS * 32, E = Vec16<DT>::N, S = NORM ? 2 : 0; // U: CudaEngine.GemvChunksPerRound = U · 256
    __shared__ float red[2][R + S][GEMV_WARPS]; // by the parity of the block's group count: one barrier per group
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int groups = (a.n + R - 1) / R;
    if (ATT && (int)blockIdx.x < a.att_blocks) { gemv_attention(a); return; }
    const int first = blockIdx.x - (ATT ? a.att_blocks : 0), stride = gridDim.x - (ATT ? a.att_blocks : 0);
    if (!a.late_trigger) pdl_launch_dependents();
    auto wait = [&] {
        if (!a.input_ready) pdl_wait();
        if (a.late_trigger) pdl_launch_dependents();
    };
    float p0 = 0.f, p1 = 0.f; // NORM 2: this thread's share of the kernel before's partial sums, after the wait
    if (!a.vec)
    {
        // Rows not 16-byte aligned (odd widths of small fixtures): one element at a time, one group per block.
        if (first < groups) gemv_prefetch_consts<R>(a, first);
        wait();
        if constexpr (NORM == 2) gemv_parts(a, p0, p1);
        for (int g = first; g < groups; g += stride)
        {
            if (g != first) gemv_prefetch_consts<R>(a, g);
            float acc[R], st[2] = {p0, p1};
#pragma unroll
            for (int i = 0; i < R; i++) acc[i] = 0.f;
            for (int c = tid; c < a.k; c += blockDim.x)
            {
                float xv = a.x[c];
                if constexpr (NORM == 1) { st[0] = fmaf(xv, xv, st[0]); st[1] += xv; xv *= a.norm_w[c]; }
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
            gemv_finish<R, S>(a, g, acc, st, red[0]);
            __syncthreads();
        }
        return;
    }
    const int c1 = a.k / E, chunks = c1 + (TWO ? a.k2 / E : 0);
    uint4 v[R][U];
    int g = first;
    // The first round of weight loads is issued before waiting for the kernel that writes x (programmatic dependent
    // launch, common.cuh).
    if (g < groups)
    {
        gemv_load_round<DT, R, U, TWO>(a, g, tid, c1, chunks, v);
        gemv_prefetch_consts<R>(a, g);
    }
    wait();
    if constexpr (NORM == 2) gemv_parts(a, p0, p1);
    float xr[ONE ? U : 1][E];
    if constexpr (ONE)
    {
#pragma unroll
        for (int u = 0; u < U; u++)
            if (tid + u * T < chunks) gemv_x_chunk<E, TWO>(a, tid + u * T, c1, xr[u]);
    }
    for (int parity = 0; g < groups; g += stride, parity ^= 1)
    {
        float acc[R], st[2] = {p0, p1};
#pragma unroll
        for (int i = 0; i < R; i++) acc[i] = 0.f;
        const int next = g + stride;
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
                    gemv_x_chunk<E, TWO>(a, c, c1, xv);
                    if constexpr (NORM == 1) gemv_norm_chunk<E>(a, c, xv, st);
                    gemv_fma<DT, R, U>(v, u, xv, acc);
                }
                c0 += U * T;
                if (c0 < chunks) gemv_load_round<DT, R, U, TWO>(a, g, c0, c1, chunks, v);
                else if (next < groups) gemv_load_round<DT, R, U, TWO>(a, next, tid, c1, chunks, v);
            }
        gemv_finish<R, S>(a, g, acc, st, red[parity]);
        if (next < groups) gemv_prefetch_consts<R>(a, next);
    }
}

// GEMV_MIN_BLOCKS (set by EDGELLM_GEMV_MIN_BLOCKS, an NVRTC -D for A/B runs) asks the compiler to fit that many blocks
// on a multiprocessor, so at most 65536 / (256 · N) registers a thread. Since the norms-in-products code left (d8009b3)
// the compiler gives gemv4_f16 80 registers (3 blocks per SM; it had 60 and 4 before), and q|k|v|fc1 takes 11 % longer
// (docs/performance.md, "CUDA, eighth session").
#ifdef GEMV_MIN_BLOCKS
#define GEMV_BOUNDS __launch_bounds__(GEMV_WARPS * 32, GEMV_MIN_BLOCKS)
#else
#define GEMV_BOUNDS __launch_bounds__(GEMV_WARPS * 32)
#endif
#define GEMV_INSTANCE(name, DT, R, TWO, ONE, ATT, NORM) extern "C" __global__ void GEMV_BOUNDS name(const GemvArgs a) { gemv<DT, R, TWO, ONE, ATT, NORM>(a); }
#define GEMV_DTYPES(prefix, R, TWO, ONE, ATT, NORM) GEMV_INSTANCE(prefix##_f16, 0, R, TWO, ONE, ATT, NORM) \
    GEMV_INSTANCE(prefix##_bf16, 1, R, TWO, ONE, ATT, NORM) GEMV_INSTANCE(prefix##_f32, 2, R, TWO, ONE, ATT, NORM)
#define GEMV_VARIANTS(prefix, R, ONE) GEMV_DTYPES(prefix, R, false, ONE, false, 0) GEMV_DTYPES(prefix##t, R, true, ONE, false, 0)
#define GEMV_NORMED(prefix, R) GEMV_DTYPES(prefix##n, R, false, false, false, 1) GEMV_DTYPES(prefix##an, R, false, false, true, 1) \
    GEMV_DTYPES(prefix##p, R, false, false, false, 2) GEMV_DTYPES(prefix##ap, R, false, false, true, 2)
// gemv{R}[x][t]_{dtype}: x marks the one-round kernels, t the two-product ones; gemv{R}a_{dtype} runs attention blocks first
// (its own instance, so that the attention code's registers do not count against the other kernels); n, the norm folded in;
// p, its statistics from the kernel before.
GEMV_VARIANTS(gemv4, 4, false) GEMV_VARIANTS(gemv4x, 4, true) GEMV_DTYPES(gemv4a, 4, false, false, true, 0) GEMV_NORMED(gemv4, 4)
GEMV_VARIANTS(gemv8, 8, false) GEMV_VARIANTS(gemv8x, 8, true) GEMV_DTYPES(gemv8a, 8, false, false, true, 0) GEMV_NORMED(gemv8, 8)

// The fused decode step's first kernel: x = the embedding row of the step's token (float32), and the rotation (cos, sin)
// of pos · inv_freq[i], i < half, for every q|k|v epilogue of the step (the same sincosf as rotate_pair, so the same bits).
// The token and position are read after the wait on the kernel that wrote them.
// With xg (the producer-side folded norm, GemvArgs.norm_parts): also x·γ of the first layer's norm and one (Σx², Σx) pair.
template <int DT>
__device__ __forceinline__ void decode_embed(const void* table, const int* token, const int* pos, float* x, int k,
    const float* inv_freq, int half, float2* rotation, const float* gamma, float* xg, float2* parts)
{
    __shared__ float red[32];
    pdl_launch_dependents();
    pdl_wait();
    long long t = *token;
    float ss = 0.f, sx = 0.f;
    for (int i = threadIdx.x; i < k; i += blockDim.x)
    {
        float v = load_one<DT>(table, t * k + i);
        x[i] = v;
        if (xg) { xg[i] = v * gamma[i]; ss = fmaf(v, v, ss); sx += v; }
    }
    if (xg)
    {
        ss = block_sum(ss, red);
        sx = block_sum(sx, red);
        if (threadIdx.x == 0) parts[0] = make_float2(ss, sx);
    }
    for (int i = threadIdx.x; i < half; i += blockDim.x)
    {
        float s, c;
        sincosf((float)*pos * inv_freq[i], &s, &c);
        rotation[i] = make_float2(c, s);
    }
}
#define DECODE_EMBED_ARGS const void* table, const int* token, const int* pos, float* x, int k, const float* inv_freq, int half, float2* rotation, \
    const float* gamma, float* xg, float2* parts
#define DECODE_EMBED_PASS table, token, pos, x, k, inv_freq, half, rotation, gamma, xg, parts
extern "C" __global__ void decode_embed_f16(DECODE_EMBED_ARGS) { decode_embed<0>(DECODE_EMBED_PASS); }
extern "C" __global__ void decode_embed_bf16(DECODE_EMBED_ARGS) { decode_embed<1>(DECODE_EMBED_PASS); }
extern "C" __global__ void decode_embed_f32(DECODE_EMBED_ARGS) { decode_embed<2>(DECODE_EMBED_PASS); }
