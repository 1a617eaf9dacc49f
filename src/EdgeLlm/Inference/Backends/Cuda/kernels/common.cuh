// Shared definitions for EdgeLlm's CUDA kernels. NVRTC compiles every kernels/*.cu file of this folder as
// one program, this header first; no CUDA header is included, so the 16-bit conversions are written here
// (PTX cvt for float16, bit shifts for bfloat16) and the program needs nothing but NVRTC itself.
//
// Dtype codes, shared with the C# side (CudaDType): 0 = float16, 1 = bfloat16, 2 = float32.

typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define NEG_INF (__int_as_float(0xff800000))

__device__ __forceinline__ float h2f(u16 h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
__device__ __forceinline__ u16 f2h(float f) { u16 h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
__device__ __forceinline__ float b2f(u16 b) { return __uint_as_float(((u32)b) << 16); }
// float32 -> bfloat16, round to nearest even (NaN stays NaN), as torch's .to(bfloat16).
__device__ __forceinline__ u16 f2b(float f)
{
    u32 u = __float_as_uint(f);
    if ((u & 0x7f800000u) == 0x7f800000u) return (u16)((u >> 16) | ((u & 0xffffu) ? 0x40u : 0u));
    u += 0x7fffu + ((u >> 16) & 1u);
    return (u16)(u >> 16);
}

// One element of a tensor in dtype DT, widened to float.
template <int DT> __device__ __forceinline__ float load_one(const void* p, long long i);
template <> __device__ __forceinline__ float load_one<0>(const void* p, long long i) { return h2f(((const u16*)p)[i]); }
template <> __device__ __forceinline__ float load_one<1>(const void* p, long long i) { return b2f(((const u16*)p)[i]); }
template <> __device__ __forceinline__ float load_one<2>(const void* p, long long i) { return ((const float*)p)[i]; }

template <int DT> __device__ __forceinline__ void store_one(void* p, long long i, float v);
template <> __device__ __forceinline__ void store_one<0>(void* p, long long i, float v) { ((u16*)p)[i] = f2h(v); }
template <> __device__ __forceinline__ void store_one<1>(void* p, long long i, float v) { ((u16*)p)[i] = f2b(v); }
template <> __device__ __forceinline__ void store_one<2>(void* p, long long i, float v) { ((float*)p)[i] = v; }

// Elements of dtype DT in one 16-byte vector, and their widening.
template <int DT> struct Vec16 { enum { N = 8 }; };
template <> struct Vec16<2> { enum { N = 4 }; };

template <int DT> __device__ __forceinline__ void unpack16(uint4 v, float* o);
template <> __device__ __forceinline__ void unpack16<0>(uint4 v, float* o)
{
    o[0] = h2f((u16)(v.x & 0xffff)); o[1] = h2f((u16)(v.x >> 16));
    o[2] = h2f((u16)(v.y & 0xffff)); o[3] = h2f((u16)(v.y >> 16));
    o[4] = h2f((u16)(v.z & 0xffff)); o[5] = h2f((u16)(v.z >> 16));
    o[6] = h2f((u16)(v.w & 0xffff)); o[7] = h2f((u16)(v.w >> 16));
}
template <> __device__ __forceinline__ void unpack16<1>(uint4 v, float* o)
{
    o[0] = __uint_as_float(v.x << 16); o[1] = __uint_as_float(v.x & 0xffff0000u);
    o[2] = __uint_as_float(v.y << 16); o[3] = __uint_as_float(v.y & 0xffff0000u);
    o[4] = __uint_as_float(v.z << 16); o[5] = __uint_as_float(v.z & 0xffff0000u);
    o[6] = __uint_as_float(v.w << 16); o[7] = __uint_as_float(v.w & 0xffff0000u);
}
template <> __device__ __forceinline__ void unpack16<2>(uint4 v, float* o)
{
    o[0] = __uint_as_float(v.x); o[1] = __uint_as_float(v.y); o[2] = __uint_as_float(v.z); o[3] = __uint_as_float(v.w);
}

// A 16-byte load through the read-only path that does not keep the line in L1: weights are read once per token.
__device__ __forceinline__ uint4 load_stream(const uint4* p)
{
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}

// Loads that bypass L1: other blocks of the same kernel wrote these values (their fence made them visible in L2).
__device__ __forceinline__ float load_l2(const float* p)
{
    float v;
    asm volatile("ld.global.cg.f32 %0, [%1];" : "=f"(v) : "l"(p));
    return v;
}
__device__ __forceinline__ double load_l2_f64(const double* p)
{
    double v;
    asm volatile("ld.global.cg.f64 %0, [%1];" : "=d"(v) : "l"(p));
    return v;
}

// Programmatic dependent launch (sm_90 and later). The decode step launches its kernels with the attribute that lets
// each start while the one before it is finishing: pdl_launch_dependents() lets the next kernel's blocks be scheduled
// once every block of this one has started, and pdl_wait() holds a kernel until the one before it has completed and
// its writes are visible. Before its wait a kernel reads only what no kernel of the step writes (the weights).
// Launched without the attribute, or compiled for an older GPU, both do nothing.
__device__ __forceinline__ void pdl_wait()
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ __forceinline__ void pdl_launch_dependents()
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" :::);
#endif
}

__device__ __forceinline__ float warp_sum(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block; every thread gets the total. red holds one float per warp. The leading barrier
// lets a block call this twice in a row on the same red.
__device__ __forceinline__ float block_sum(float v, float* red)
{
    v = warp_sum(v);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    __syncthreads();
    if (lane == 0) red[warp] = v;
    __syncthreads();
    float t = 0.f;
    for (int i = 0; i < warps; i++) t += red[i];
    return t;
}

__device__ __forceinline__ float block_max(float v, float* red)
{
    v = warp_max(v);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    __syncthreads();
    if (lane == 0) red[warp] = v;
    __syncthreads();
    float t = NEG_INF;
    for (int i = 0; i < warps; i++) t = fmaxf(t, red[i]);
    return t;
}

// Activations exactly as transformers writes them, in float32.
__device__ __forceinline__ float silu(float x) { return x / (1.f + expf(-x)); }
__device__ __forceinline__ float gelu_new(float x)
{
    return 0.5f * x * (1.f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

// Where the channels of the device layout's row pairs came from. The engine uploads q and k weight rows
// permuted so that each rotary pair (i, i + rot/2) of a head sits in adjacent rows (2i, 2i+1), and one
// warp computes both and rotates them at once; channels past the rotary part keep their order.
__device__ __forceinline__ void rotary_source(int c, int rot, int* o0, int* o1)
{
    if (c < rot) { *o0 = c >> 1; *o1 = (c >> 1) + rot / 2; }
    else { *o0 = c; *o1 = c + 1; }
}

// The same turn with (cos, sin) computed before (the fused decode step's rotation for its position, decode_embed).
__device__ __forceinline__ void rotate_by(float* a, float* b, float2 cs)
{
    float x1 = *a, x2 = *b;
    *a = x1 * cs.x - x2 * cs.y;
    *b = x2 * cs.x + x1 * cs.y;
}

// Rotates the pair (a, b) of channels (i, i + rot/2) for position pos, in float32 as transformers does
// (angle = pos * inv_freq[i] rounded once, then cos and sin).
__device__ __forceinline__ void rotate_pair(float* a, float* b, int pos, float inv_freq)
{
    float s, c;
    sincosf((float)pos * inv_freq, &s, &c);
    rotate_by(a, b, make_float2(c, s));
}
