// Attention over the paged KV cache (kernels of CudaBackend; StepTable is in backend.cu, which NVRTC reads first).
//
// Paged KV cache: every sequence's keys and values live in fixed-size blocks of `block_tokens` positions
// taken from one pool. A block holds all layers: layer l starts at byte layer_offset[l] of the block, its
// keys [block_tokens][kv_width] float16 first, then its values in the same layout. A sequence's block
// table lists the device address of its i-th block (positions i·block_tokens …).

// The decode kernels divide positions by the block size on every load: a constant turns that into a shift and a mask.
// It must equal PagedKvPool.BlockTokens (those kernels trap when the step table says otherwise).
#define KV_BLOCK_TOKENS 16

__device__ __forceinline__ u16* kv_slot(const StepTable& t, int seq, int p, int layer_offset, int kv_width, bool values)
{
    u64 block = t.blocks[(size_t)seq * t.table_stride + p / t.block_tokens];
    size_t off = (size_t)layer_offset + (values ? (size_t)t.block_tokens * kv_width * 2 : 0) + (size_t)(p % t.block_tokens) * kv_width * 2;
    return (u16*)(block + off);
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

#define ATT_TILE 32        // key positions per tile (one per lane of a warp in the score phase)
#define ATT_VECTORS 64     // query vectors (row, query head) a block holds at once

// Causal attention of one row tile (consecutive rows of one sequence, from the step's tile list) for one KV head and
// the `groups` query heads that share it (grid: tiles × kv_heads, ATT_THREADS threads; each thread owns at most
// MAX_OUT outputs (query vector, channel), so vectors · head_dim ≤ MAX_OUT · ATT_THREADS). Two instances: 256 threads ×
// 32 outputs for prefill tiles, 128 × 8 for decode rows (few outputs: fewer registers, more blocks per multiprocessor). Rows are taken `sub` at a time
// (sub · groups ≤ ATT_VECTORS query vectors); for each such chunk the block walks the key positions in tiles of
// ATT_TILE: keys and values of the tile are loaded once into shared memory (float16 → float32, 16-byte loads), every
// query vector is scored against every key (lane = key), masked causally (key ≤ the row's position) and by the sliding
// window (key > position − window when window > 0), folded into running maxima and sums (online softmax, float32),
// and each thread accumulates its (query vector, channel) outputs over the tile's values.
// Dynamic shared memory (floats): vectors·head_dim queries + ATT_TILE·(head_dim+1) keys + ATT_TILE·head_dim values
// + vectors·(ATT_TILE+1) scores.
template <int ATT_THREADS, int ATT_MAX_OUT>
__device__ __forceinline__ void paged_attention(const float* q, int ld_q, float* out, int ld_out,
    StepTable t, const int2* tiles, int layer_offset, int kv_width, int groups, int head_dim, float scale, int window, int sub)
{
    extern __shared__ float shared[];
    __shared__ float m_run[ATT_VECTORS], l_run[ATT_VECTORS], alpha[ATT_VECTORS];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int kvh = blockIdx.y, h0 = kvh * groups;
    const int2 tile = tiles[blockIdx.x];
    const int seq = t.seq[tile.x];
    const int hd1 = head_dim + 1;
    const int vmax = sub * groups;
    float* qs = shared;                          // [vmax][head_dim]
    float* ks = qs + vmax * head_dim;            // [ATT_TILE][head_dim + 1]
    float* vs = ks + ATT_TILE * hd1;             // [ATT_TILE][head_dim]
    float* sc = vs + ATT_TILE * head_dim;        // [vmax][ATT_TILE + 1]
    const bool vec = (head_dim & 7) == 0;

    for (int r0 = 0; r0 < tile.y; r0 += sub)
    {
        const int rows = min(sub, tile.y - r0), vectors = rows * groups, outputs = vectors * head_dim;
        const int first = tile.x + r0;
        const int pmin = t.pos[first], pmax = t.pos[first + rows - 1];
        // query vector v = (row v / groups, head h0 + v % groups)
        for (int i = tid; i < outputs; i += ATT_THREADS)
        {
            int v = i / head_dim, d = i % head_dim;
            qs[i] = q[(size_t)(first + v / groups) * ld_q + (h0 + v % groups) * head_dim + d] * scale;
        }
        for (int v = tid; v < vectors; v += ATT_THREADS) { m_run[v] = NEG_INF; l_run[v] = 0.f; }
        float acc[ATT_MAX_OUT];
#pragma unroll
        for (int u = 0; u < ATT_MAX_OUT; u++) acc[u] = 0.f;
        const int start = window > 0 ? max(0, pmin + 1 - window) : 0;
        __syncthreads();

        for (int j0 = start; j0 <= pmax; j0 += ATT_TILE)
        {
            const int count = min(ATT_TILE, pmax + 1 - j0);
            // 1. keys and values of positions j0 .. j0+count into shared memory (zeros past count)
            if (vec)
            {
                const int chunks = head_dim >> 3;
                for (int i = tid; i < ATT_TILE * chunks; i += ATT_THREADS)
                {
                    int jj = i / chunks, c = (i % chunks) << 3;
                    float kf[8], vf[8];
                    if (jj < count)
                    {
                        const u16* kp = kv_slot(t, seq, j0 + jj, layer_offset, kv_width, false) + kvh * head_dim + c;
                        const u16* vp = kv_slot(t, seq, j0 + jj, layer_offset, kv_width, true) + kvh * head_dim + c;
                        unpack16<0>(*(const uint4*)kp, kf);
                        unpack16<0>(*(const uint4*)vp, vf);
                    }
                    else
                        for (int e = 0; e < 8; e++) { kf[e] = 0.f; vf[e] = 0.f; }
#pragma unroll
                    for (int e = 0; e < 8; e++) { ks[jj * hd1 + c + e] = kf[e]; vs[jj * head_dim + c + e] = vf[e]; }
                }
            }
            else
                for (int i = tid; i < ATT_TILE * head_dim; i += ATT_THREADS)
                {
                    int jj = i / head_dim, c = i % head_dim;
                    float kf = 0.f, vf = 0.f;
                    if (jj < count)
                    {
                        kf = h2f(kv_slot(t, seq, j0 + jj, layer_offset, kv_width, false)[kvh * head_dim + c]);
                        vf = h2f(kv_slot(t, seq, j0 + jj, layer_offset, kv_width, true)[kvh * head_dim + c]);
                    }
                    ks[jj * hd1 + c] = kf;
                    vs[jj * head_dim + c] = vf;
                }
            __syncthreads();
            // 2. scores: warp w takes query vectors w, w+8, …; lane = key position. Then that vector's running softmax.
            for (int v = warp; v < vectors; v += ATT_THREADS / 32)
            {
                const float* qv = qs + v * head_dim;
                const float* kr = ks + lane * hd1;
                float sdot = 0.f;
                for (int d = 0; d < head_dim; d++) sdot = fmaf(qv[d], kr[d], sdot);
                int p = t.pos[first + v / groups], j = j0 + lane;
                bool ok = lane < count && j <= p && (window <= 0 || j > p - window);
                float sv = ok ? sdot : NEG_INF;
                float mx = warp_max(sv);
                float m_old = m_run[v], m_new = fmaxf(m_old, mx);
                // a vector with no visible key in this tile (all masked) keeps its state
                float pr = ok ? expf(sv - m_new) : 0.f;
                float sum = warp_sum(pr);
                sc[v * (ATT_TILE + 1) + lane] = pr;
                if (lane == 0)
                {
                    float a = m_new == NEG_INF ? 1.f : expf(m_old - m_new);
                    alpha[v] = a;
                    l_run[v] = l_run[v] * a + sum;
                    m_run[v] = m_new;
                }
            }
            __syncthreads();
            // 3. outputs: acc = acc·alpha + Σ_j p_j · value_j
#pragma unroll
            for (int u = 0; u < ATT_MAX_OUT; u++)
            {
                int o = tid + u * ATT_THREADS;
                if (o >= outputs) break;
                int v = o / head_dim, d = o % head_dim;
                const float* pv = sc + v * (ATT_TILE + 1);
                float a = acc[u] * alpha[v];
                for (int jj = 0; jj < count; jj++) a = fmaf(pv[jj], vs[jj * head_dim + d], a);
                acc[u] = a;
            }
            __syncthreads();
        }
#pragma unroll
        for (int u = 0; u < ATT_MAX_OUT; u++)
        {
            int o = tid + u * ATT_THREADS;
            if (o >= outputs) break;
            int v = o / head_dim, d = o % head_dim;
            out[(size_t)(first + v / groups) * ld_out + (h0 + v % groups) * head_dim + d] = acc[u] / l_run[v];
        }
        __syncthreads();
    }
}

#define ATT_PARAMS const float* q, int ld_q, float* out, int ld_out, StepTable t, const int2* tiles, int layer_offset, \
    int kv_width, int groups, int head_dim, float scale, int window, int sub
#define ATT_ARGS q, ld_q, out, ld_out, t, tiles, layer_offset, kv_width, groups, head_dim, scale, window, sub
extern "C" __global__ void __launch_bounds__(256) be_paged_attention(ATT_PARAMS) { paged_attention<256, 32>(ATT_ARGS); }
extern "C" __global__ void __launch_bounds__(128) be_paged_attention_small(ATT_PARAMS) { paged_attention<128, 8>(ATT_ARGS); }

// ---------------------------------------------------------------- paged attention, decode rows

#define DEC_WARPS 4
#define DEC_MAX_DIMS 128   // head_dim ≤ 128 and a multiple of 8 (16-byte key loads); else the tiled kernel above

// The decode kernels' last step: each warp left its running max, sum and unnormalised output (wm, wl, wacc; a warp that saw
// no position has max −inf and adds nothing); the block merges them and writes the output, or with several slots the
// split's partial (unnormalised output, max, sum) in part[i][head][slot s of slots] for be_paged_decode_combine. Slots past
// `splits` belong to be_paged_attention_prefix (a shared prefix); a row outside every prefix group (first[i] == 0) marks
// them empty here.
template <int G>
__device__ __forceinline__ void decode_merge_warps(const float (&wm)[DEC_WARPS][G], const float (&wl)[DEC_WARPS][G],
    const float (&wacc)[DEC_WARPS][G * DEC_MAX_DIMS], float* out, int ld_out, float* part, int row, int h0, int groups,
    int head_dim, int splits, int s, int slots, bool no_prefix)
{
    if (s == 0 && no_prefix)
        for (int o = threadIdx.x; o < groups * (slots - splits); o += DEC_WARPS * 32)
        {
            float* pp = part + (((size_t)blockIdx.x * gridDim.y * groups + h0 + o / (slots - splits)) * slots + splits + o % (slots - splits)) * (head_dim + 2);
            pp[head_dim] = NEG_INF; pp[head_dim + 1] = 0.f;
        }
    for (int o = threadIdx.x; o < groups * head_dim; o += DEC_WARPS * 32)
    {
        int g = o / head_dim, d = o % head_dim;
        float M = NEG_INF;
        for (int w = 0; w < DEC_WARPS; w++) M = fmaxf(M, wm[w][g]);
        float A = 0.f, L = 0.f;
        if (M != NEG_INF)
            for (int w = 0; w < DEC_WARPS; w++)
                if (wm[w][g] != NEG_INF) { float f = expf(wm[w][g] - M); A += wacc[w][o] * f; L += wl[w][g] * f; }
        if (slots == 1) { out[(size_t)row * ld_out + (h0 + g) * head_dim + d] = A / L; continue; }
        float* pp = part + (((size_t)blockIdx.x * gridDim.y * groups + h0 + g) * slots + s) * (head_dim + 2);
        pp[d] = A;
        if (d == 0) { pp[head_dim] = M; pp[head_dim + 1] = L; }
    }
}

// Attention of single-row tiles (decode rows: one new position each) in flash-decoding form. Block (row i of the
// step's decode-row list, KV head, split s) takes split s of the row's visible positions (from max(0, p+1−window)
// to p) and runs an online softmax over them for the G query heads that share the KV head (G ≥ groups, one
// instance per power of two). Each of its warps takes 32 positions at a time and issues every load of them at once
// (the key loads and the value loads are all in flight together, one wait on memory per 32 positions): lane = position
// for the scores (the lane's key read whole with 16-byte loads, its block's address looked up once and passed to the
// other lanes by shuffles), lane = 4 channels for the values (each value row read by the whole warp, 8 bytes a lane).
// The warps' states are merged in shared memory; with one split the block writes the output, with more it leaves
// (unnormalised output, max, sum) in part[i][head][split] for be_paged_decode_combine. The split count is fixed per
// step shape and each row cuts its own length, so a captured graph serves every position.
template <int G>
__device__ __forceinline__ void paged_decode(const float* q, int ld_q, float* out, int ld_out, float* part,
    StepTable t, const int* drows, int layer_offset, int kv_width, int groups, int head_dim, float scale, int window, int splits,
    const int* first, int slots)
{
    __shared__ float4 qs4[G * DEC_MAX_DIMS / 4]; // float4: the 16-byte alignment the query loads need
    float* qs = (float*)qs4;
    __shared__ float wm[DEC_WARPS][G], wl[DEC_WARPS][G];
    __shared__ float wacc[DEC_WARPS][G * DEC_MAX_DIMS];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int row = drows[blockIdx.x], kvh = blockIdx.y, s = blockIdx.z;
    if (t.block_tokens != KV_BLOCK_TOKENS) __trap();
    const int seq = t.seq[row], p = t.pos[row], bt = KV_BLOCK_TOKENS;
    const int own = first ? first[blockIdx.x] : 0; // positions below it: the row's shared prefix, attended elsewhere
    const int begin = window > 0 ? max(0, p + 1 - window) : own, end = p + 1;
    const int chunk = ((end - begin + splits - 1) / splits + 31) & ~31;
    const int lo = begin + s * chunk, hi = min(end, lo + chunk);
    const int h0 = kvh * groups, chunks = head_dim >> 3;
    const bool owner = lane * 4 < head_dim; // this lane's 4 value channels exist
    const size_t row_bytes = (size_t)kv_width * 2, values_at = (size_t)bt * row_bytes;
    const size_t head_at = (size_t)layer_offset + (size_t)kvh * head_dim * 2;
    const u64* table = t.blocks + (size_t)seq * t.table_stride;

    for (int i = tid; i < G * head_dim; i += DEC_WARPS * 32)
        qs[i] = i < groups * head_dim ? q[(size_t)row * ld_q + h0 * head_dim + i] * scale : 0.f;
    __syncthreads();

    float m[G], l[G], acc[G][4];
#pragma unroll
    for (int g = 0; g < G; g++) { m[g] = NEG_INF; l[g] = 0.f; acc[g][0] = acc[g][1] = acc[g][2] = acc[g][3] = 0.f; }

    for (int j0 = lo + warp * 32; j0 < hi; j0 += DEC_WARPS * 32)
    {
        const int n = min(32, hi - j0);
        const bool valid = lane < n;
        const int j = j0 + min(lane, n - 1); // lanes past n repeat the last position: real addresses, results unused
        const u64 block = table[j / bt];
        // every load of the 32 positions: the lane's key, then the value rows (lane u's block address, shuffled)
        uint4 kr[DEC_MAX_DIMS / 8];
        const uint4* kp = (const uint4*)(block + head_at + (size_t)(j % bt) * row_bytes);
#pragma unroll
        for (int c = 0; c < DEC_MAX_DIMS / 8; c++) if (c < chunks) kr[c] = kp[c];
        uint2 vr[32];
#pragma unroll
        for (int u = 0; u < 32; u++)
        {
            u64 bu = __shfl_sync(0xffffffffu, block, u);
            if (owner && u < n)
                vr[u] = *(const uint2*)(bu + head_at + values_at + (size_t)((j0 + u) % bt) * row_bytes + lane * 8);
        }
        // scores: the lane's key against every query head of the group
        float sc[G];
#pragma unroll
        for (int g = 0; g < G; g++) sc[g] = 0.f;
#pragma unroll
        for (int c = 0; c < DEC_MAX_DIMS / 8; c++)
        {
            if (c >= chunks) break;
            float kf[8];
            unpack16<0>(kr[c], kf);
#pragma unroll
            for (int g = 0; g < G; g++)
            {
                const float4* qv = (const float4*)(qs + g * head_dim + c * 8);
                float4 a = qv[0], b = qv[1];
                sc[g] += a.x * kf[0] + a.y * kf[1] + a.z * kf[2] + a.w * kf[3] + b.x * kf[4] + b.y * kf[5] + b.z * kf[6] + b.w * kf[7];
            }
        }
        // online softmax, per query head
        float pr[G];
#pragma unroll
        for (int g = 0; g < G; g++)
        {
            float sv = valid ? sc[g] : NEG_INF;
            float m_new = fmaxf(m[g], warp_max(sv)); // finite: lane 0 always holds a key
            float a = expf(m[g] - m_new);
            pr[g] = valid ? expf(sv - m_new) : 0.f;
            l[g] = l[g] * a + warp_sum(pr[g]);
            m[g] = m_new;
            acc[g][0] *= a; acc[g][1] *= a; acc[g][2] *= a; acc[g][3] *= a;
        }
        // values: Σ_u p_u · v_u from the registers
#pragma unroll
        for (int u = 0; u < 32; u++)
        {
            if (u >= n) break; // warp-uniform
            float v0 = 0.f, v1 = 0.f, v2 = 0.f, v3 = 0.f;
            if (owner)
            {
                v0 = h2f((u16)(vr[u].x & 0xffff)); v1 = h2f((u16)(vr[u].x >> 16));
                v2 = h2f((u16)(vr[u].y & 0xffff)); v3 = h2f((u16)(vr[u].y >> 16));
            }
#pragma unroll
            for (int g = 0; g < G; g++)
            {
                float pj = __shfl_sync(0xffffffffu, pr[g], u);
                acc[g][0] = fmaf(pj, v0, acc[g][0]); acc[g][1] = fmaf(pj, v1, acc[g][1]);
                acc[g][2] = fmaf(pj, v2, acc[g][2]); acc[g][3] = fmaf(pj, v3, acc[g][3]);
            }
        }
    }

    // merge the warps (a warp that saw no position has max −inf and adds nothing)
#pragma unroll
    for (int g = 0; g < G; g++)
    {
        if (lane == 0) { wm[warp][g] = m[g]; wl[warp][g] = l[g]; }
        if (owner)
            for (int e = 0; e < 4; e++) wacc[warp][g * head_dim + lane * 4 + e] = acc[g][e];
    }
    __syncthreads();
    decode_merge_warps<G>(wm, wl, wacc, out, ld_out, part, row, h0, groups, head_dim, splits, s, slots, own == 0);
}

#define DEC_PARAMS const float* q, int ld_q, float* out, int ld_out, float* part, StepTable t, const int* drows, \
    int layer_offset, int kv_width, int groups, int head_dim, float scale, int window, int splits, const int* first, int slots
#define DEC_ARGS q, ld_q, out, ld_out, part, t, drows, layer_offset, kv_width, groups, head_dim, scale, window, splits, first, slots
extern "C" __global__ void __launch_bounds__(DEC_WARPS * 32) be_paged_decode_g1(DEC_PARAMS) { paged_decode<1>(DEC_ARGS); }
extern "C" __global__ void __launch_bounds__(DEC_WARPS * 32) be_paged_decode_g2(DEC_PARAMS) { paged_decode<2>(DEC_ARGS); }
extern "C" __global__ void __launch_bounds__(DEC_WARPS * 32) be_paged_decode_g4(DEC_PARAMS) { paged_decode<4>(DEC_ARGS); }
extern "C" __global__ void __launch_bounds__(DEC_WARPS * 32) be_paged_decode_g8(DEC_PARAMS) { paged_decode<8>(DEC_ARGS); }

// The same attention with coalesced loads (be_paged_decode2, the default): each half-warp reads one position's key and
// value whole, lane c of the half its 16-byte chunk c (head_dim ≤ 128: 16 chunks), so a warp's load instruction reads
// two positions' contiguous rows instead of 32 lanes' scattered 16-byte pieces; U loads of keys and values per lane are
// issued before any is used (2·U positions per warp in flight, with half the registers of the lane-per-position form).
// The scores are summed over the half's 16 lanes by shuffles; the online softmax takes the warp's 2·U positions at once.
// Leaves the same output (or split partials) as paged_decode.
template <int G, int U>
__device__ __forceinline__ void paged_decode2(const float* q, int ld_q, float* out, int ld_out, float* part,
    StepTable t, const int* drows, int layer_offset, int kv_width, int groups, int head_dim, float scale, int window, int splits,
    const int* first, int slots)
{
    __shared__ float wm[DEC_WARPS][G], wl[DEC_WARPS][G];
    __shared__ float wacc[DEC_WARPS][G * DEC_MAX_DIMS];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, half = lane >> 4, c = lane & 15;
    const int row = drows[blockIdx.x], kvh = blockIdx.y, s = blockIdx.z;
    if (t.block_tokens != KV_BLOCK_TOKENS) __trap();
    const int seq = t.seq[row], p = t.pos[row], bt = KV_BLOCK_TOKENS;
    const int own = first ? first[blockIdx.x] : 0; // positions below it: the row's shared prefix, attended elsewhere
    const int begin = window > 0 ? max(0, p + 1 - window) : own, end = p + 1;
    const int chunk = ((end - begin + splits - 1) / splits + 31) & ~31;
    const int lo = begin + s * chunk, hi = min(end, lo + chunk);
    const int h0 = kvh * groups;
    const bool active = c < (head_dim >> 3); // this lane's 8 channels exist
    const size_t row_bytes = (size_t)kv_width * 2, values_at = (size_t)bt * row_bytes;
    const size_t head_at = (size_t)layer_offset + (size_t)kvh * head_dim * 2 + (size_t)c * 16;
    const u64* table = t.blocks + (size_t)seq * t.table_stride;

    float qr[G][8];
#pragma unroll
    for (int g = 0; g < G; g++)
#pragma unroll
        for (int e = 0; e < 8; e++)
            qr[g][e] = active && g < groups ? q[(size_t)row * ld_q + (h0 + g) * head_dim + c * 8 + e] * scale : 0.f;
    float m[G], l[G], acc[G][8];
#pragma unroll
    for (int g = 0; g < G; g++)
    {
        m[g] = NEG_INF; l[g] = 0.f;
#pragma unroll
        for (int e = 0; e < 8; e++) acc[g][e] = 0.f;
    }

    for (int j0 = lo + warp * 2 * U; j0 < hi; j0 += DEC_WARPS * 2 * U)
    {
        uint4 kr[U], vr[U];
#pragma unroll
        for (int u = 0; u < U; u++)
        {
            const int j = min(j0 + 2 * u + half, hi - 1); // past hi: the last position again, result unused
            const char* at = (const char*)table[j / bt] + head_at + (size_t)(j % bt) * row_bytes;
            if (active) { kr[u] = *(const uint4*)at; vr[u] = *(const uint4*)(at + values_at); }
            else { kr[u].x = kr[u].y = kr[u].z = kr[u].w = 0u; vr[u] = kr[u]; }
        }
        float sc[G][U];
#pragma unroll
        for (int u = 0; u < U; u++)
        {
            float kf[8];
            unpack16<0>(kr[u], kf);
            const bool valid = j0 + 2 * u + half < hi;
#pragma unroll
            for (int g = 0; g < G; g++)
            {
                float d = 0.f;
#pragma unroll
                for (int e = 0; e < 8; e++) d = fmaf(qr[g][e], kf[e], d);
#pragma unroll
                for (int o = 8; o > 0; o >>= 1) d += __shfl_xor_sync(0xffffffffu, d, o);
                sc[g][u] = valid ? d : NEG_INF;
            }
        }
#pragma unroll
        for (int g = 0; g < G; g++)
        {
            float mx = NEG_INF;
#pragma unroll
            for (int u = 0; u < U; u++) mx = fmaxf(mx, sc[g][u]);
            const float m_new = fmaxf(m[g], fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 16))); // finite: position j0 is < hi
            const float a = expf(m[g] - m_new);
            float sum = 0.f;
#pragma unroll
            for (int u = 0; u < U; u++) { sc[g][u] = expf(sc[g][u] - m_new); sum += sc[g][u]; }
            l[g] = l[g] * a + sum + __shfl_xor_sync(0xffffffffu, sum, 16);
            m[g] = m_new;
#pragma unroll
            for (int e = 0; e < 8; e++) acc[g][e] *= a;
        }
#pragma unroll
        for (int u = 0; u < U; u++)
        {
            float vf[8];
            unpack16<0>(vr[u], vf);
#pragma unroll
            for (int g = 0; g < G; g++)
#pragma unroll
                for (int e = 0; e < 8; e++) acc[g][e] = fmaf(sc[g][u], vf[e], acc[g][e]);
        }
    }
    // the two halves took different positions under the same running max: their sums add
#pragma unroll
    for (int g = 0; g < G; g++)
#pragma unroll
        for (int e = 0; e < 8; e++) acc[g][e] += __shfl_xor_sync(0xffffffffu, acc[g][e], 16);

    // merge the warps (a warp that saw no position has max −inf and adds nothing)
#pragma unroll
    for (int g = 0; g < G; g++)
    {
        if (lane == 0) { wm[warp][g] = m[g]; wl[warp][g] = l[g]; }
        if (half == 0 && active)
#pragma unroll
            for (int e = 0; e < 8; e++) wacc[warp][g * head_dim + c * 8 + e] = acc[g][e];
    }
    __syncthreads();
    decode_merge_warps<G>(wm, wl, wacc, out, ld_out, part, row, h0, groups, head_dim, splits, s, slots, own == 0);
}

extern "C" __global__ void __launch_bounds__(DEC_WARPS * 32) be_paged_decode2_g1(DEC_PARAMS) { paged_decode2<1, 8>(DEC_ARGS); }
extern "C" __global__ void __launch_bounds__(DEC_WARPS * 32) be_paged_decode2_g2(DEC_PARAMS) { paged_decode2<2, 8>(DEC_ARGS); }
extern "C" __global__ void __launch_bounds__(DEC_WARPS * 32) be_paged_decode2_g4(DEC_PARAMS) { paged_decode2<4, 4>(DEC_ARGS); }
extern "C" __global__ void __launch_bounds__(DEC_WARPS * 32) be_paged_decode2_g8(DEC_PARAMS) { paged_decode2<8, 2>(DEC_ARGS); }

// ---------------------------------------------------------------- paged attention, a prefix shared by many decode rows

#define PRE_VECTORS 32   // query vectors (row, query head) a block holds: 128 threads, 4 per vector
#define PRE_KEYS 32      // key positions per shared-memory tile

// Decode rows whose block tables begin with the same blocks (a shared prompt prefix: PagedKvStorage.Share) attend to
// those positions here, all together (cascade attention): each tile of the prefix's keys and values is read from memory
// once per group of rows instead of once per row. Block (tile, KV head, split z): tiles[tile] = (first index into rows[],
// row count ≤ 32, span), rows[] = decode-row indices, one group's rows per tile; the block takes split z of positions
// 0 … span−1 (every one below each row's own position) and the query vectors of its rows, PRE_VECTORS at a time. Per
// 32-position tile, keys and values go to shared memory as float32; thread (vector v = tid/4, quarter) scores keys
// quarter, quarter+4, … and accumulates 8-channel chunks quarter, quarter+4, … of v's output; v's 4 threads keep one
// online softmax through shuffles. It leaves (unnormalised output, max, sum) in slot splits + z of part[i][head][slots];
// the rows' own positions (span … p) go through be_paged_decode2 into slots 0 … splits−1, and be_paged_decode_combine
// adds them all. Dynamic shared memory: 3 · PRE_VECTORS · (head_dim + 4) floats.
extern "C" __global__ void __launch_bounds__(128) be_paged_attention_prefix(const float* q, int ld_q, float* part, StepTable t,
    const int* drows, const int4* tiles, const int* rows, int layer_offset, int kv_width, int groups, int head_dim,
    float scale, int splits, int slots)
{
    extern __shared__ float4 shared4[];
    const int stride = head_dim + 4, chunks = head_dim >> 3; // stride: rows 16-byte aligned, 8 vectors' rows on distinct banks
    float* qs = (float*)shared4;               // [PRE_VECTORS][stride]
    float* ks = qs + PRE_VECTORS * stride;     // [PRE_KEYS][stride]
    float* vs = ks + PRE_KEYS * stride;        // [PRE_KEYS][stride]
    const int tid = threadIdx.x, v = tid >> 2, quarter = tid & 3, lane0 = (tid & 31) & ~3;
    const int4 tile = tiles[blockIdx.x];
    const int kvh = blockIdx.y, z = blockIdx.z, h0 = kvh * groups, heads = gridDim.y * groups;
    const int span = tile.z, chunk = ((span + gridDim.z - 1) / gridDim.z + PRE_KEYS - 1) / PRE_KEYS * PRE_KEYS;
    const int lo = z * chunk, hi = min(span, lo + chunk);
    if (t.block_tokens != KV_BLOCK_TOKENS) __trap();
    const size_t row_bytes = (size_t)kv_width * 2, values_at = (size_t)KV_BLOCK_TOKENS * row_bytes;
    const size_t head_at = (size_t)layer_offset + (size_t)kvh * head_dim * 2;
    const u64* table = t.blocks + (size_t)t.seq[drows[rows[tile.x]]] * t.table_stride; // the prefix's blocks: any row's table
    const int per_pass = PRE_VECTORS / groups;

    for (int r0 = 0; r0 < tile.y; r0 += per_pass)
    {
        const int nv = min(per_pass, tile.y - r0) * groups;
        __syncthreads(); // the previous pass has read qs
        for (int i = tid; i < PRE_VECTORS * head_dim; i += 128)
        {
            const int vv = i / head_dim, d = i % head_dim;
            // vectors past nv score zeros: finite, never written out
            qs[vv * stride + d] = vv < nv ? q[(size_t)drows[rows[tile.x + r0 + vv / groups]] * ld_q + (h0 + vv % groups) * head_dim + d] * scale : 0.f;
        }
        float m = NEG_INF, l = 0.f, acc[DEC_MAX_DIMS / 32][8];
#pragma unroll
        for (int k = 0; k < DEC_MAX_DIMS / 32; k++)
#pragma unroll
            for (int e = 0; e < 8; e++) acc[k][e] = 0.f;

        for (int j0 = lo; j0 < hi; j0 += PRE_KEYS)
        {
            const int n = min(PRE_KEYS, hi - j0);
            __syncthreads(); // qs written; the previous tile's keys and values read
            for (int i = tid; i < PRE_KEYS * chunks; i += 128)
            {
                const int jj = i / chunks, c = i % chunks;
                float kf[8], vf[8];
                if (jj < n)
                {
                    const int j = j0 + jj;
                    const char* at = (const char*)table[j / KV_BLOCK_TOKENS] + head_at + (size_t)(j % KV_BLOCK_TOKENS) * row_bytes + c * 16;
                    unpack16<0>(*(const uint4*)at, kf);
                    unpack16<0>(*(const uint4*)(at + values_at), vf);
                }
                else
#pragma unroll
                    for (int e = 0; e < 8; e++) { kf[e] = 0.f; vf[e] = 0.f; }
                float4 k4[2], v4[2];
                k4[0].x = kf[0]; k4[0].y = kf[1]; k4[0].z = kf[2]; k4[0].w = kf[3];
                k4[1].x = kf[4]; k4[1].y = kf[5]; k4[1].z = kf[6]; k4[1].w = kf[7];
                v4[0].x = vf[0]; v4[0].y = vf[1]; v4[0].z = vf[2]; v4[0].w = vf[3];
                v4[1].x = vf[4]; v4[1].y = vf[5]; v4[1].z = vf[6]; v4[1].w = vf[7];
                float4* kd = (float4*)(ks + jj * stride + c * 8);
                float4* vd = (float4*)(vs + jj * stride + c * 8);
                kd[0] = k4[0]; kd[1] = k4[1]; vd[0] = v4[0]; vd[1] = v4[1];
            }
            __syncthreads();
            // scores of vector v against keys quarter + 4k
            float s[PRE_KEYS / 4];
#pragma unroll
            for (int k = 0; k < PRE_KEYS / 4; k++) s[k] = 0.f;
            for (int c = 0; c < chunks; c++)
            {
                const float4 qa = *(const float4*)(qs + v * stride + c * 8), qb = *(const float4*)(qs + v * stride + c * 8 + 4);
#pragma unroll
                for (int k = 0; k < PRE_KEYS / 4; k++)
                {
                    const float4 ka = *(const float4*)(ks + (quarter + 4 * k) * stride + c * 8);
                    const float4 kb = *(const float4*)(ks + (quarter + 4 * k) * stride + c * 8 + 4);
                    s[k] += qa.x * ka.x + qa.y * ka.y + qa.z * ka.z + qa.w * ka.w + qb.x * kb.x + qb.y * kb.y + qb.z * kb.z + qb.w * kb.w;
                }
            }
            // the tile's online softmax step, shared by v's 4 threads
            float mx = NEG_INF;
#pragma unroll
            for (int k = 0; k < PRE_KEYS / 4; k++) { if (quarter + 4 * k >= n) s[k] = NEG_INF; mx = fmaxf(mx, s[k]); }
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            const float m_new = fmaxf(m, mx); // finite: the tile's first key is valid
            const float a = expf(m - m_new);
            float sum = 0.f;
#pragma unroll
            for (int k = 0; k < PRE_KEYS / 4; k++) { s[k] = expf(s[k] - m_new); sum += s[k]; }
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            l = l * a + sum;
            m = m_new;
#pragma unroll
            for (int k = 0; k < DEC_MAX_DIMS / 32; k++)
#pragma unroll
                for (int e = 0; e < 8; e++) acc[k][e] *= a;
            // values: key jj's weight is s[jj / 4] of thread (v, jj % 4)
#pragma unroll
            for (int jj = 0; jj < PRE_KEYS; jj++)
            {
                if (jj >= n) break; // block-uniform
                const float p = __shfl_sync(0xffffffffu, s[jj / 4], lane0 + jj % 4);
#pragma unroll
                for (int k = 0; k < DEC_MAX_DIMS / 32; k++)
                {
                    const int c = quarter + 4 * k;
                    if (c >= chunks) break;
                    const float4 va = *(const float4*)(vs + jj * stride + c * 8), vb = *(const float4*)(vs + jj * stride + c * 8 + 4);
                    acc[k][0] = fmaf(p, va.x, acc[k][0]); acc[k][1] = fmaf(p, va.y, acc[k][1]);
                    acc[k][2] = fmaf(p, va.z, acc[k][2]); acc[k][3] = fmaf(p, va.w, acc[k][3]);
                    acc[k][4] = fmaf(p, vb.x, acc[k][4]); acc[k][5] = fmaf(p, vb.y, acc[k][5]);
                    acc[k][6] = fmaf(p, vb.z, acc[k][6]); acc[k][7] = fmaf(p, vb.w, acc[k][7]);
                }
            }
        }
        // the split's partial for each real vector (an empty split leaves max −inf: the combine skips it)
        if (v < nv)
        {
            const int i = rows[tile.x + r0 + v / groups], head = h0 + v % groups;
            float* pp = part + (((size_t)i * heads + head) * slots + splits + z) * (head_dim + 2);
#pragma unroll
            for (int k = 0; k < DEC_MAX_DIMS / 32; k++)
            {
                const int c = quarter + 4 * k;
                if (c >= chunks) break;
#pragma unroll
                for (int e = 0; e < 8; e++) pp[c * 8 + e] = acc[k][e];
            }
            if (quarter == 0) { pp[head_dim] = m; pp[head_dim + 1] = l; }
        }
    }
}

// out[row, head] = Σ_s A_s·e^(M_s−M) / Σ_s L_s·e^(M_s−M) over the splits be_paged_decode left (grid: decode rows × heads);
// splits past a row's length are empty (max −inf) and skipped.
extern "C" __global__ void be_paged_decode_combine(const float* part, const int* drows, float* out, int ld_out, int head_dim, int splits)
{
    const int i = blockIdx.x, h = blockIdx.y;
    const float* pp = part + ((size_t)i * gridDim.y + h) * splits * (head_dim + 2);
    float M = NEG_INF;
    for (int s = 0; s < splits; s++) M = fmaxf(M, pp[s * (head_dim + 2) + head_dim]);
    float L = 0.f;
    for (int s = 0; s < splits; s++)
    {
        float ms = pp[s * (head_dim + 2) + head_dim];
        if (ms != NEG_INF) L += pp[s * (head_dim + 2) + head_dim + 1] * expf(ms - M);
    }
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x)
    {
        float o = 0.f;
        for (int s = 0; s < splits; s++)
        {
            float ms = pp[s * (head_dim + 2) + head_dim];
            if (ms != NEG_INF) o += pp[s * (head_dim + 2) + d] * expf(ms - M);
        }
        out[(size_t)drows[i] * ld_out + h * head_dim + d] = o / L;
    }
}

// ---------------------------------------------------------------- prompt chunks through cuBLAS (CudaBackend.PrefillAttention)

// One segment's rows attend on the tensor cores: its keys and values copied out of the blocks (be_gather_kv), its queries
// laid out head-major in float16 (be_prefill_q), S = scale · Q·Kᵀ and O = P·V as batched GEMMs over the KV heads (a KV
// head's `groups` query heads are consecutive rows of its batch), a masked softmax in float32 between them
// (attn_softmax_rows in kernels/attention.cu, with the layer's sliding window; P in float16), and O put back into the rows (be_prefill_out).

// Positions 0 … keys − 1 of segment `seq` → contiguous float16 keys and values [keys][kv_width].
extern "C" __global__ void be_gather_kv(StepTable t, int seq, int keys, int layer_offset, int kv_width, u16* k_out, u16* v_out)
{
    long long total = (long long)keys * kv_width;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
    {
        int p = (int)(i / kv_width), c = (int)(i % kv_width);
        k_out[i] = kv_slot(t, seq, p, layer_offset, kv_width, false)[c];
        v_out[i] = kv_slot(t, seq, p, layer_offset, kv_width, true)[c];
    }
}

// Between rows first … first + rows − 1 (float32, head h at columns h·head_dim, ld floats apart) and head-major
// [heads][rows][head_dim]: the queries into the GEMMs in float16 (ToHeads), their float32 outputs back into the rows.
template <bool ToHeads>
__device__ __forceinline__ void prefill_heads(float* x, int ld, int first, int rows, int heads, int head_dim, u16* q16, const float* o)
{
    long long total = (long long)heads * rows * head_dim;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
    {
        int d = (int)(i % head_dim);
        long long rest = i / head_dim;
        int r = (int)(rest % rows), h = (int)(rest / rows);
        size_t at = (size_t)(first + r) * ld + h * head_dim + d;
        if (ToHeads) q16[i] = f2h(x[at]);
        else x[at] = o[i];
    }
}

extern "C" __global__ void be_prefill_q(const float* q, int ld_q, int first, int rows, int heads, int head_dim, u16* out)
{
    prefill_heads<true>(const_cast<float*>(q), ld_q, first, rows, heads, head_dim, out, nullptr);
}

extern "C" __global__ void be_prefill_out(const float* O, int rows, int heads, int head_dim, float* out, int ld_out, int first)
{
    prefill_heads<false>(out, ld_out, first, rows, heads, head_dim, nullptr, O);
}
