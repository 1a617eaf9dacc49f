namespace EdgeLlm.Inference;

/// <summary>The linear layers of a decoder block, by the input they read.</summary>
public enum Projection
{
    /// <summary>The normed hidden state that feeds q/k/v (Phi: also fc1).</summary>
    QueryKeyValue,
    /// <summary>The attention output, heads side by side (head h at columns h·headDim …), before o_proj / dense / c_proj.</summary>
    AttentionOutput,
    /// <summary>The normed hidden state that feeds gate/up (w1/w2); Phi has none (its fc1 reads <see cref="QueryKeyValue"/>).</summary>
    MlpInput,
    /// <summary>The MLP's intermediate activations, before down_proj / fc2 / c_proj.</summary>
    MlpOutput,
}

/// <summary>
/// Sees activations as the engine computes them, for calibration statistics. Each callback receives a
/// scratch buffer whose first <c>rows × width</c> values are valid only during the call: read it, never keep it.
/// </summary>
public interface IActivationObserver
{
    void BlockInput(int layer, float[] hidden, int rows, int width);

    void ProjectionInput(int layer, Projection projection, float[] activations, int rows, int width);

    /// <summary>
    /// Whether <see cref="ProjectionInput"/> wants <paramref name="projection"/>'s input; the engine skips the others (on a GPU
    /// each one observed is a copy to the host of rows × width values). All of them unless overridden.
    /// </summary>
    bool Observes(Projection projection) => true;

    void BlockOutput(int layer, float[] hidden, int rows, int width);
}
