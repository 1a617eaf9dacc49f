using EdgeLlm.Inference.Backends;

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

/// <summary>
/// Sees activations where the backend holds them (on a GPU: device buffers), together with the backend to compute on them,
/// so that statistics accumulate without a copy to the host per step (<see cref="IBackend.AccumulateColumns"/>,
/// <see cref="IBackend.AccumulateRowCosines"/>); calibration's statistics collector is one. Each activation holds the step's
/// <c>rows × Width</c> values and is valid only during the call (the block input is overwritten by the block: copy it with
/// <see cref="IBackend.CopyColumns"/> into a scratch buffer of your own role to keep it until <see cref="BlockOutput"/>).
/// </summary>
public interface IBackendActivationObserver
{
    void BlockInput(IBackend backend, int layer, Activation hidden, int rows);

    void ProjectionInput(IBackend backend, int layer, Projection projection, Activation activations, int rows);

    /// <summary>Whether <see cref="ProjectionInput"/> wants <paramref name="projection"/>'s input; all of them unless overridden.</summary>
    bool Observes(Projection projection) => true;

    void BlockOutput(IBackend backend, int layer, Activation hidden, int rows);
}
