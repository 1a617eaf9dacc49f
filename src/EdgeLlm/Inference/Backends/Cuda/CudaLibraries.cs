using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>No usable CUDA driver, library or device: one line saying what is missing.</summary>
public sealed class CudaUnavailableException(string message) : InvalidOperationException(message);

/// <summary>
/// Finds CUDA's shared libraries: the driver (<c>libcuda.so.1</c>), NVRTC and cuBLAS. Order: the folders
/// in <c>EDGELLM_CUDA_LIB_DIR</c> (colon-separated), the loader's own search (LD_LIBRARY_PATH, ldconfig),
/// the usual install folders (/usr/local/nvidia/lib64, /usr/local/cuda/…), then the <c>nvidia/*/lib</c>
/// folders of a Python environment's site-packages (pip's CUDA wheels, e.g. PyTorch's). The P/Invoke
/// declarations name "edgellm-cuda", "edgellm-nvrtc" and "edgellm-cublas"; a resolver maps them here.
/// </summary>
internal static class CudaLibraries
{
    public const string Driver = "edgellm-cuda", Nvrtc = "edgellm-nvrtc", Cublas = "edgellm-cublas";
    public const string DirectoryVariable = "EDGELLM_CUDA_LIB_DIR";

    private static readonly object gate = new();
    private static readonly Dictionary<string, IntPtr> handles = new();
    private static readonly Dictionary<string, string> found = new();
    private static bool resolverSet;
    private static List<string>? pythonDirs;

    /// <summary>Where each library was loaded from (for reports).</summary>
    public static IReadOnlyDictionary<string, string> Found { get { lock (gate) return new Dictionary<string, string>(found); } }

    public static void EnsureDriver() => Ensure(Driver, "the CUDA driver", ["libcuda.so.1", "libcuda.so"], []);

    public static void EnsureNvrtc() => Ensure(Nvrtc, "NVRTC", ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"], ["libnvrtc-builtins.so.*"]);

    public static void EnsureCublas() => Ensure(Cublas, "cuBLAS", ["libcublas.so.13", "libcublas.so.12", "libcublas.so"], ["libcublasLt.so.*"]);

    private static void Ensure(string key, string what, string[] sonames, string[] companions)
    {
        lock (gate)
        {
            if (!resolverSet)
            {
                NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
                resolverSet = true;
            }
            if (handles.ContainsKey(key)) return;
            foreach (var dir in CandidateDirectories(includePython: false))
                if (TryLoadFrom(dir, key, sonames, companions)) return;
            foreach (var soname in sonames)
                if (NativeLibrary.TryLoad(soname, out var h)) { handles[key] = h; found[key] = soname + " (loader search path)"; return; }
            foreach (var dir in CandidateDirectories(includePython: true))
                if (TryLoadFrom(dir, key, sonames, companions)) return;
            throw new CudaUnavailableException(
                $"no CUDA: {what} ({sonames[0]}) not found (set {DirectoryVariable} to the folder that holds it)");
        }
    }

    private static bool TryLoadFrom(string dir, string key, string[] sonames, string[] companions)
    {
        foreach (var soname in sonames)
        {
            string path = Path.Combine(dir, soname);
            if (!File.Exists(path)) continue;
            // Companions first (cuBLASLt for cuBLAS, the builtins for NVRTC): the library finds them by soname
            // among the loaded ones, wherever its own RPATH points.
            foreach (var pattern in companions)
                foreach (var c in Directory.EnumerateFiles(dir, pattern).Order())
                    NativeLibrary.TryLoad(c, out _);
            if (NativeLibrary.TryLoad(path, out var h)) { handles[key] = h; found[key] = path; return true; }
        }
        return false;
    }

    private static IEnumerable<string> CandidateDirectories(bool includePython)
    {
        if (!includePython)
        {
            foreach (var d in (Environment.GetEnvironmentVariable(DirectoryVariable) ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
                yield return d;
            yield break;
        }
        foreach (var d in new[] { "/usr/local/nvidia/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib" })
            if (Directory.Exists(d)) yield return d;
        foreach (var d in PythonNvidiaDirectories()) yield return d;
    }

    /// <summary>site-packages/nvidia/*/lib of the known Python environments, and of python3 on the PATH.</summary>
    private static List<string> PythonNvidiaDirectories()
    {
        if (pythonDirs != null) return pythonDirs;
        var sitePackages = new List<string>();
        foreach (var root in new[] { "/opt/torch/.venv/lib", "/usr/local/lib", "/usr/lib" })
            if (Directory.Exists(root))
                foreach (var py in Directory.EnumerateDirectories(root, "python3*"))
                    foreach (var sp in new[] { "site-packages", "dist-packages" })
                        sitePackages.Add(Path.Combine(py, sp));
        var probed = ProbePythonSitePackages();
        if (probed != null) sitePackages.Insert(0, probed);
        var dirs = new List<string>();
        foreach (var sp in sitePackages.Distinct())
        {
            string nvidia = Path.Combine(sp, "nvidia");
            if (!Directory.Exists(nvidia)) continue;
            // CUDA 13 wheels share nvidia/cu13/lib; CUDA 12 wheels have nvidia/<component>/lib.
            foreach (var sub in Directory.EnumerateDirectories(nvidia).Order())
            {
                string lib = Path.Combine(sub, "lib");
                if (Directory.Exists(lib)) dirs.Add(lib);
            }
        }
        return pythonDirs = dirs;
    }

    private static string? ProbePythonSitePackages()
    {
        try
        {
            var psi = new ProcessStartInfo("python3", ["-c", "import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))"])
                { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            if (p == null) return null;
            string output = p.StandardOutput.ReadToEnd().Trim();
            if (!p.WaitForExit(15000)) { p.Kill(); return null; }
            return p.ExitCode == 0 && Directory.Exists(output) ? output : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException) { return null; }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        lock (gate) return handles.TryGetValue(name, out var h) ? h : IntPtr.Zero;
    }
}
