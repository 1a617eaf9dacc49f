// Declarations NVRTC provides implicitly, so clang can type-check the kernels without a CUDA toolkit.
#include "__clang_cuda_builtin_vars.h"
#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __host__ __attribute__((host))
#define __shared__ __attribute__((shared))
#define __constant__ __attribute__((constant))
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...) __attribute__((launch_bounds(__VA_ARGS__)))
typedef unsigned long size_t;
struct uint4 { unsigned int x, y, z, w; };
struct uint2 { unsigned int x, y; };
struct float4 { float x, y, z, w; };
struct float2 { float x, y; };
struct int4 { int x, y, z, w; };
struct int2 { int x, y; };
__device__ inline int2 make_int2(int x, int y) { return {x, y}; }
__device__ inline float2 make_float2(float x, float y) { return {x, y}; }
__device__ void __syncthreads();
__device__ float __uint_as_float(unsigned int);
__device__ float __int_as_float(int);
__device__ unsigned int __float_as_uint(float);
__device__ int __float_as_int(float);
__device__ float __shfl_xor_sync(unsigned int, float, int, int = 32);
__device__ double __shfl_xor_sync(unsigned int, double, int, int = 32);
__device__ int __shfl_xor_sync(unsigned int, int, int, int = 32);
__device__ float __shfl_sync(unsigned int, float, int, int = 32);
__device__ int __shfl_sync(unsigned int, int, int, int = 32);
__device__ unsigned long long __shfl_sync(unsigned int, unsigned long long, int, int = 32);
__device__ float __shfl_down_sync(unsigned int, float, unsigned int, int = 32);
__device__ unsigned int __reduce_add_sync(unsigned int, unsigned int);
__device__ unsigned int __ballot_sync(unsigned int, int);
template <class T> __device__ T __ldg(const T*);
__device__ void __trap();
__device__ float atomicAdd(float*, float);
__device__ int atomicAdd(int*, int);
__device__ unsigned int atomicAdd(unsigned int*, unsigned int);
__device__ float expf(float); __device__ float tanhf(float); __device__ void sincosf(float, float*, float*); __device__ void __sincosf(float, float*, float*);
__device__ float sqrtf(float); __device__ float rsqrtf(float); __device__ float fmaxf(float, float);
__device__ float fminf(float, float); __device__ float erff(float); __device__ float logf(float);
__device__ float fabsf(float); __device__ float fmaf(float, float, float); __device__ float exp2f(float); __device__ double log(double); __device__ double exp(double); __device__ double sqrt(double); __device__ double fmax(double, double); __device__ float powf(float, float); __device__ float __expf(float);
__device__ int min(int, int); __device__ int max(int, int);
__device__ long long min(long long, long long); __device__ long long max(long long, long long);
