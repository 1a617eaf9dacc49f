// Calibration statistics accumulated where the activations are (CudaBackend.Statistics.cs, IBackend.AccumulateColumns and
// AccumulateRowCosines): float64 running sums in device memory, every sum in a fixed order, so a pass gives the same totals
// on every run; the column sums even associate exactly as the CPU backend's (one addition per row, rows in order).

// Rows whose loads one thread issues before adding them (in order): the loads in flight that keep a few thousand
// threads reading at a good fraction of the memory bandwidth.
#define STAT_ROWS 16

// sum[j] += x[r, j] and sq[j] += x[r, j]² in float64, r = 0 … rows − 1 in order: one thread per column, a warp reading 32
// consecutive columns of a row (coalesced). x is [rows, ld] float32; sum and sq hold width values.
extern "C" __global__ void be_column_sums(const float* x, int ld, int rows, int width, double* sum, double* sq)
{
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= width) return;
    const float* p = x + j;
    double s = sum[j], q = sq[j];
    int r = 0;
    for (; r + STAT_ROWS <= rows; r += STAT_ROWS)
    {
        float v[STAT_ROWS];
#pragma unroll
        for (int u = 0; u < STAT_ROWS; u++) v[u] = p[(size_t)(r + u) * ld];
#pragma unroll
        for (int u = 0; u < STAT_ROWS; u++)
        {
            double d = v[u];
            s += d;
            q += d * d; // exact product (24-bit significands), so a fused multiply-add rounds as the CPU's two operations
        }
    }
    for (; r < rows; r++)
    {
        double d = p[(size_t)r * ld];
        s += d;
        q += d * d;
    }
    sum[j] = s;
    sq[j] = q;
}

// N float64 values per thread summed over the block's STAT_THREADS threads by a fixed-order tree (red: N · STAT_THREADS
// doubles of shared memory); thread 0 gets the totals in v.
#define STAT_THREADS 256
template <int N>
__device__ __forceinline__ void stat_tree(double* red, double (&v)[N])
{
    int t = threadIdx.x;
#pragma unroll
    for (int k = 0; k < N; k++) red[k * STAT_THREADS + t] = v[k];
    for (int s = STAT_THREADS / 2; s > 0; s >>= 1)
    {
        __syncthreads();
        if (t < s)
        {
#pragma unroll
            for (int k = 0; k < N; k++) red[k * STAT_THREADS + t] += red[k * STAT_THREADS + t + s];
        }
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < N; k++) v[k] = red[k * STAT_THREADS];
}

// out[r] = a[r, :] · b[r, :] / (‖a[r, :]‖ ‖b[r, :]‖) over width columns, r = blockIdx.x (blocks of STAT_THREADS threads):
// each thread's float64 partials over columns t, t + 256, …, then the tree.
extern "C" __global__ void be_row_cosines(const float* a, int lda, const float* b, int ldb, int width, double* out)
{
    __shared__ double red[3 * STAT_THREADS];
    const float* x = a + (size_t)blockIdx.x * lda;
    const float* y = b + (size_t)blockIdx.x * ldb;
    double v[3] = {0, 0, 0}; // a·b, ‖a‖², ‖b‖²
    for (int c = threadIdx.x; c < width; c += STAT_THREADS)
    {
        double u = x[c], w = y[c];
        v[0] += u * w;
        v[1] += u * u;
        v[2] += w * w;
    }
    stat_tree<3>(red, v);
    if (threadIdx.x == 0) out[blockIdx.x] = v[0] / (sqrt(v[1]) * sqrt(v[2]));
}

// sums[index] += Σ_r values[r] over rows values: one block of STAT_THREADS threads, thread t summing rows t, t + 256, … in
// order, then the tree; one addition onto the running sum.
extern "C" __global__ void be_add_row_sum(const double* values, int rows, double* sums, int index)
{
    __shared__ double red[STAT_THREADS];
    double v[1] = {0};
    for (int r = threadIdx.x; r < rows; r += STAT_THREADS) v[0] += values[r];
    stat_tree<1>(red, v);
    if (threadIdx.x == 0) sums[index] += v[0];
}
