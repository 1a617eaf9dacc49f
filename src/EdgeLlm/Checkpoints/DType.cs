namespace EdgeLlm.Checkpoints;

/// <summary>Element types that safetensors files store, with the names the format uses.</summary>
public enum DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool }

public static class DTypes
{
    public static int SizeOf(this DType t) => t switch
    {
        DType.F64 or DType.I64 => 8,
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 or DType.I16 => 2,
        _ => 1,
    };

    public static string ToSafetensorsName(this DType t) => t switch
    {
        DType.Bool => "BOOL",
        _ => t.ToString().ToUpperInvariant(),
    };

    public static bool TryParse(string name, out DType type)
    {
        switch (name)
        {
            case "F64": type = DType.F64; return true;
            case "F32": type = DType.F32; return true;
            case "F16": type = DType.F16; return true;
            case "BF16": type = DType.BF16; return true;
            case "I64": type = DType.I64; return true;
            case "I32": type = DType.I32; return true;
            case "I16": type = DType.I16; return true;
            case "I8": type = DType.I8; return true;
            case "U8": type = DType.U8; return true;
            case "BOOL": type = DType.Bool; return true;
            default: type = default; return false;
        }
    }

    /// <summary>Parses the dtype names used by config.json ("float16", "bfloat16", "float32") and by the CLI ("f16").</summary>
    public static DType ParseFloatName(string name) => name.ToLowerInvariant() switch
    {
        "float32" or "f32" or "fp32" => DType.F32,
        "float16" or "f16" or "fp16" or "half" => DType.F16,
        "bfloat16" or "bf16" => DType.BF16,
        _ => throw new ArgumentException($"Unknown floating-point dtype '{name}' (expected float32, float16 or bfloat16)."),
    };

    public static string ToTorchName(this DType t) => t switch
    {
        DType.F32 => "float32",
        DType.F16 => "float16",
        DType.BF16 => "bfloat16",
        DType.F64 => "float64",
        _ => t.ToString().ToLowerInvariant(),
    };

    public static bool IsFloat(this DType t) => t is DType.F32 or DType.F16 or DType.BF16 or DType.F64;
}
