using System.Runtime.InteropServices;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>The CUDA driver API calls the engine uses (<c>cuda.h</c>), bound with source-generated P/Invoke.</summary>
internal static unsafe partial class Cu
{
    private const string L = CudaLibraries.Driver;
    public const int AttrComputeMajor = 75, AttrComputeMinor = 76, AttrMultiprocessors = 16, AttrMaxSharedPerBlockOptin = 97;
    public const int FuncAttrMaxDynamicShared = 8, FuncAttrRegisters = 4, FuncAttrLocalBytes = 3;
    public const int CaptureModeThreadLocal = 1;
    public const int LaunchAttributeProgrammaticStreamSerialization = 6;

    /// <summary><c>CUlaunchConfig</c> (cuda.h, CUDA 12 and later).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct LaunchConfig
    {
        public uint GridX, GridY, GridZ, BlockX, BlockY, BlockZ, SharedBytes;
        public IntPtr Stream;
        public LaunchAttribute* Attributes;
        public uint AttributeCount;
    }

    /// <summary><c>CUlaunchAttribute</c>: the id, padding to 8 bytes, then a 64-byte value union (here its first int).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 72)]
    public struct LaunchAttribute
    {
        [FieldOffset(0)] public int Id;
        [FieldOffset(8)] public int Value;
    }

    [LibraryImport(L)] public static partial int cuInit(uint flags);
    [LibraryImport(L)] public static partial int cuDriverGetVersion(int* version);
    [LibraryImport(L)] public static partial int cuDeviceGetCount(int* count);
    [LibraryImport(L)] public static partial int cuDeviceGet(int* device, int ordinal);
    [LibraryImport(L)] public static partial int cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(L)] public static partial int cuDeviceGetAttribute(int* value, int attribute, int device);
    [LibraryImport(L)] public static partial int cuDeviceTotalMem_v2(ulong* bytes, int device);
    [LibraryImport(L)] public static partial int cuDevicePrimaryCtxRetain(IntPtr* context, int device);
    [LibraryImport(L)] public static partial int cuDevicePrimaryCtxRelease_v2(int device);
    [LibraryImport(L)] public static partial int cuCtxSetCurrent(IntPtr context);
    [LibraryImport(L)] public static partial int cuMemGetInfo_v2(ulong* free, ulong* total);
    [LibraryImport(L)] public static partial int cuMemAlloc_v2(ulong* pointer, ulong bytes);
    [LibraryImport(L)] public static partial int cuMemFree_v2(ulong pointer);
    [LibraryImport(L)] public static partial int cuMemcpyHtoD_v2(ulong destination, void* source, ulong bytes);
    [LibraryImport(L)] public static partial int cuMemcpyHtoDAsync_v2(ulong destination, void* source, ulong bytes, IntPtr stream);
    [LibraryImport(L)] public static partial int cuMemcpyDtoHAsync_v2(void* destination, ulong source, ulong bytes, IntPtr stream);
    [LibraryImport(L)] public static partial int cuMemcpyDtoDAsync_v2(ulong destination, ulong source, ulong bytes, IntPtr stream);
    [LibraryImport(L)] public static partial int cuMemsetD32Async(ulong destination, uint value, ulong count, IntPtr stream);
    [LibraryImport(L)] public static partial int cuModuleLoadData(IntPtr* module, void* image);
    [LibraryImport(L)] public static partial int cuModuleUnload(IntPtr module);
    [LibraryImport(L, StringMarshalling = StringMarshalling.Utf8)] public static partial int cuModuleGetFunction(IntPtr* function, IntPtr module, string name);
    [LibraryImport(L)] public static partial int cuFuncSetAttribute(IntPtr function, int attribute, int value);
    [LibraryImport(L)] public static partial int cuFuncGetAttribute(int* value, int attribute, IntPtr function);
    [LibraryImport(L)] public static partial int cuOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, IntPtr function, int blockSize, nuint sharedBytes);
    [LibraryImport(L)] public static partial int cuLaunchKernel(IntPtr function, uint gridX, uint gridY, uint gridZ,
        uint blockX, uint blockY, uint blockZ, uint sharedBytes, IntPtr stream, void** parameters, void** extra);
    [LibraryImport(L)] public static partial int cuLaunchKernelEx(LaunchConfig* config, IntPtr function, void** parameters, void** extra);
    [LibraryImport(L)] public static partial int cuStreamCreate(IntPtr* stream, uint flags);
    [LibraryImport(L)] public static partial int cuStreamDestroy_v2(IntPtr stream);
    [LibraryImport(L)] public static partial int cuStreamSynchronize(IntPtr stream);
    [LibraryImport(L)] public static partial int cuStreamBeginCapture_v2(IntPtr stream, int mode);
    [LibraryImport(L)] public static partial int cuStreamEndCapture(IntPtr stream, IntPtr* graph);
    [LibraryImport(L)] public static partial int cuGraphInstantiateWithFlags(IntPtr* exec, IntPtr graph, ulong flags);
    [LibraryImport(L)] public static partial int cuGraphLaunch(IntPtr exec, IntPtr stream);
    [LibraryImport(L)] public static partial int cuGraphExecDestroy(IntPtr exec);
    [LibraryImport(L)] public static partial int cuGraphDestroy(IntPtr graph);
    [LibraryImport(L)] public static partial int cuGetErrorString(int error, byte** text);
    [LibraryImport(L)] public static partial int cuEventCreate(IntPtr* e, uint flags);
    [LibraryImport(L)] public static partial int cuEventRecord(IntPtr e, IntPtr stream);
    [LibraryImport(L)] public static partial int cuEventElapsedTime(float* ms, IntPtr start, IntPtr end);
    [LibraryImport(L)] public static partial int cuEventDestroy_v2(IntPtr e);
    [LibraryImport(L)] public static partial int cuEventSynchronize(IntPtr e);
    [LibraryImport(L)] public static partial int cuMemAllocHost_v2(void** pointer, ulong bytes);
    [LibraryImport(L)] public static partial int cuMemFreeHost(void* pointer);
    public const uint EventDisableTiming = 2;

    /// <summary>Throws with the driver's own message when a call fails.</summary>
    public static void Check(int result, string call)
    {
        if (result == 0) return;
        byte* text = null;
        string message = cuGetErrorString(result, &text) == 0 && text != null ? Marshal.PtrToStringUTF8((IntPtr)text)! : "unknown error";
        throw new CudaException($"{call} failed: CUDA error {result} ({message})");
    }
}

/// <summary>A CUDA call failed after the device was opened (out of memory, an illegal address, …).</summary>
public sealed class CudaException(string message) : InvalidOperationException(message);

/// <summary>NVRTC (<c>nvrtc.h</c>): compiles the engine's kernel sources for the device at first use.</summary>
internal static unsafe partial class Nvrtc
{
    private const string L = CudaLibraries.Nvrtc;
    [LibraryImport(L)] public static partial int nvrtcVersion(int* major, int* minor);
    [LibraryImport(L, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nvrtcCreateProgram(IntPtr* program, string source, string name, int headers, IntPtr headerSources, IntPtr includeNames);
    [LibraryImport(L)] public static partial int nvrtcCompileProgram(IntPtr program, int optionCount, byte** options);
    [LibraryImport(L)] public static partial int nvrtcGetProgramLogSize(IntPtr program, nuint* size);
    [LibraryImport(L)] public static partial int nvrtcGetProgramLog(IntPtr program, byte* log);
    [LibraryImport(L)] public static partial int nvrtcGetCUBINSize(IntPtr program, nuint* size);
    [LibraryImport(L)] public static partial int nvrtcGetCUBIN(IntPtr program, byte* cubin);
    [LibraryImport(L)] public static partial int nvrtcDestroyProgram(IntPtr* program);
}

/// <summary>cuBLAS (<c>cublas_api.h</c>): the tensor-core GEMMs of prefill. Column-major, as cuBLAS is.</summary>
internal static unsafe partial class Cublas
{
    private const string L = CudaLibraries.Cublas;
    public const int OpN = 0, OpT = 1, Compute32F = 68, GemmDefault = -1;
    public const int R16F = 2, R16BF = 14, R32F = 0;

    [LibraryImport(L)] public static partial int cublasCreate_v2(IntPtr* handle);
    [LibraryImport(L)] public static partial int cublasDestroy_v2(IntPtr handle);
    [LibraryImport(L)] public static partial int cublasSetStream_v2(IntPtr handle, IntPtr stream);
    [LibraryImport(L)] public static partial int cublasSetWorkspace_v2(IntPtr handle, ulong workspace, nuint bytes);
    [LibraryImport(L)] public static partial int cublasGetVersion_v2(IntPtr handle, int* version);
    [LibraryImport(L)] public static partial int cublasGemmEx(IntPtr handle, int transA, int transB, int m, int n, int k,
        float* alpha, ulong a, int aType, int lda, ulong b, int bType, int ldb, float* beta, ulong c, int cType, int ldc,
        int computeType, int algo);
    [LibraryImport(L)] public static partial int cublasGemmStridedBatchedEx(IntPtr handle, int transA, int transB, int m, int n, int k,
        float* alpha, ulong a, int aType, int lda, long strideA, ulong b, int bType, int ldb, long strideB, float* beta,
        ulong c, int cType, int ldc, long strideC, int batchCount, int computeType, int algo);

    public static void Check(int status, string call)
    {
        if (status != 0) throw new CudaException($"{call} failed: cuBLAS status {status}");
    }
}
