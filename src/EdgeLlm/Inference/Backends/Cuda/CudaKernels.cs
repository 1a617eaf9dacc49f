using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>
/// The engine's CUDA C kernels (kernels/*.cu, embedded in the assembly) compiled by NVRTC for the
/// device's own architecture to a cubin. The cubin is cached on disk, keyed by a hash of the source,
/// the architecture, NVRTC's version and the options, so later runs skip the compiler.
/// </summary>
internal static unsafe class CudaKernels
{
    private const string ResourcePrefix = "EdgeLlm.cuda.";

    /// <summary>common.cuh first, then every .cu file in name order, as one program.</summary>
    public static string Source()
    {
        var asm = typeof(CudaKernels).Assembly;
        var names = asm.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)).ToList();
        var ordered = names.Where(n => n.EndsWith(".cuh", StringComparison.Ordinal)).Order()
            .Concat(names.Where(n => n.EndsWith(".cu", StringComparison.Ordinal)).Order());
        var sb = new StringBuilder();
        foreach (var n in ordered)
        {
            using var s = asm.GetManifestResourceStream(n)!;
            using var r = new StreamReader(s);
            sb.Append("// ---- ").Append(n[ResourcePrefix.Length..]).Append('\n').Append(r.ReadToEnd()).Append('\n');
        }
        return sb.ToString();
    }

    public static string CacheDirectory =>
        Environment.GetEnvironmentVariable("EDGELLM_CUDA_CACHE")
        ?? Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "edgellm", "cuda");

    public static byte[] Compile(CudaDevice device, out string note) => Compile(device.Architecture, out note);

    /// <summary>Compiles for <paramref name="architecture"/> (sm_XY); needs only NVRTC, no GPU.</summary>
    public static byte[] Compile(string architecture, out string note)
    {
        CudaLibraries.EnsureNvrtc();
        int major, minor;
        Nvrtc.nvrtcVersion(&major, &minor);
        string source = Source();
        // No fast math: expf, tanhf and sincosf stay accurate, as the references need.
        string[] options = [$"--gpu-architecture={architecture}", "-std=c++17", "-default-device", .. MinBlocksOption(), .. DefineOptions()];
        string key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{source}\n{architecture}\nnvrtc {major}.{minor}\n{string.Join(' ', options)}")))[..32].ToLowerInvariant();
        string path = Path.Combine(CacheDirectory, $"kernels-{architecture}-{key}.cubin");
        if (File.Exists(path)) { note = $"cached {path}"; return File.ReadAllBytes(path); }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        IntPtr program;
        Check(Nvrtc.nvrtcCreateProgram(&program, source, "edgellm_kernels.cu", 0, IntPtr.Zero, IntPtr.Zero), "nvrtcCreateProgram");
        try
        {
            var encoded = options.Select(o => Encoding.UTF8.GetBytes(o + "\0")).ToArray();
            var handles = encoded.Select(e => System.Runtime.InteropServices.GCHandle.Alloc(e, System.Runtime.InteropServices.GCHandleType.Pinned)).ToArray();
            try
            {
                var ptrs = stackalloc byte*[encoded.Length];
                for (int i = 0; i < encoded.Length; i++) ptrs[i] = (byte*)handles[i].AddrOfPinnedObject();
                int result = Nvrtc.nvrtcCompileProgram(program, encoded.Length, ptrs);
                if (result != 0)
                    throw new CudaException($"NVRTC {major}.{minor} could not compile the engine's kernels for {architecture}: {Log(program).Trim()}");
            }
            finally { foreach (var h in handles) h.Free(); }
            nuint size;
            Check(Nvrtc.nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize");
            var cubin = new byte[(int)size];
            fixed (byte* p = cubin) Check(Nvrtc.nvrtcGetCUBIN(program, p), "nvrtcGetCUBIN");
            try
            {
                Directory.CreateDirectory(CacheDirectory);
                AtomicFile.Write(path, s => s.Write(cubin));
                note = $"compiled by NVRTC {major}.{minor} in {clock.Elapsed.TotalSeconds:F1} s, cached {path}";
            }
            catch (IOException e) { note = $"compiled by NVRTC {major}.{minor} (cache not written: {e.Message})"; }
            catch (UnauthorizedAccessException e) { note = $"compiled by NVRTC {major}.{minor} (cache not written: {e.Message})"; }
            return cubin;
        }
        finally { Nvrtc.nvrtcDestroyProgram(&program); }
    }

    /// <summary>
    /// EDGELLM_GEMV_MIN_BLOCKS=N (1–8), for A/B runs: the matrix-vector kernels are compiled to fit N blocks of 256 threads
    /// on a multiprocessor (kernels/linear.cu, GEMV_BOUNDS). Part of the options, so of the cache key.
    /// </summary>
    private static string[] MinBlocksOption() =>
        int.TryParse(Environment.GetEnvironmentVariable("EDGELLM_GEMV_MIN_BLOCKS"), out int n) && n is >= 1 and <= 8
            ? [$"-DGEMV_MIN_BLOCKS={n}"] : [];

    /// <summary>
    /// EDGELLM_CUDA_DEFINES="NAME=VALUE,…", for A/B runs of the kernels' compile-time constants (ATT_KEYS, …): each becomes
    /// an NVRTC -D, so part of the cache key. A malformed entry is an error naming it.
    /// </summary>
    internal static string[] DefineOptions() => DefineOptions(Environment.GetEnvironmentVariable("EDGELLM_CUDA_DEFINES"));

    internal static string[] DefineOptions(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return [];
        var defines = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var d in defines)
            if (!System.Text.RegularExpressions.Regex.IsMatch(d, "^[A-Z_][A-Z0-9_]*(=[A-Za-z0-9_.]+)?$"))
                throw new CudaException($"EDGELLM_CUDA_DEFINES: '{d}' is not NAME or NAME=VALUE (capitals, digits, underscores)");
        return defines.Select(d => "-D" + d).ToArray();
    }

    private static string Log(IntPtr program)
    {
        nuint size;
        if (Nvrtc.nvrtcGetProgramLogSize(program, &size) != 0 || size == 0) return "";
        var log = new byte[(int)size];
        fixed (byte* p = log) Nvrtc.nvrtcGetProgramLog(program, p);
        return Encoding.UTF8.GetString(log, 0, Math.Max(0, log.Length - 1));
    }

    private static void Check(int result, string call)
    {
        if (result != 0) throw new CudaException($"{call} failed: NVRTC error {result}");
    }
}
