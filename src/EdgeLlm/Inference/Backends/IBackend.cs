using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Backends;

/// <summary>
/// The primitives a decoder forward pass is written against. Architecture files
/// (<c>src/EdgeLlm/Architectures/</c>) call only these, so the CPU kernels and a GPU implementation run the
/// same description. Every activation is float32, row-major <c>[rows, width]</c>, where <c>rows</c> is the
/// row count of the current step (<see cref="BeginStep"/>): one row per new token, segments stacked in order.
/// <para>
/// Capture contract (what lets a GPU backend record one decode step as a graph and replay it): within a step
/// the architecture's sequence of calls depends only on the model config and the step's row count, never on
/// token ids or positions; positions and sequence lengths reach kernels only through <see cref="BeginStep"/>
/// (a backend may upload them to fixed device memory that a captured graph reads at replay). Handles
/// (<see cref="DeviceMatrix"/>, <see cref="DeviceVector"/>, <see cref="RotaryTable"/>) are created once at load;
/// <see cref="Scratch"/> returns a handle over the same storage for the same role every step (a GPU backend may size
/// each role once, for the widest layer, so its device address never changes).
/// </para>
/// Calls on one backend do not overlap (one forward at a time); each call may be parallel inside.
/// </summary>
public interface IBackend : IDisposable
{
    /// <summary>Short name for messages and benchmark JSON, e.g. "cpu" or "cuda:0".</summary>
    string Name { get; }

    /// <summary>
    /// A weight matrix <c>[rows = outputs, columns = inputs]</c> from the checkpoint, kept in its stored dtype
    /// (F16, BF16 or F32; never silently widened to a float32 copy). The CPU backend reads the memory map in place.
    /// </summary>
    DeviceMatrix UploadMatrix(TensorView weight);

    /// <summary>A 1-D tensor (norm weight, bias) converted to float32 and held by the backend.</summary>
    DeviceVector UploadVector(TensorView vector);

    /// <summary>
    /// Rotary frequencies for <paramref name="rope"/> (its <see cref="RopeConfig.RotaryDim"/>, theta and scaling),
    /// computed in float32 exactly as transformers does. Create once per distinct config, not per step.
    /// </summary>
    RotaryTable CreateRotary(RopeConfig rope);

    /// <summary>
    /// Storage for one sequence's keys and values: per layer <c>[capacity, layerWidths[layer]]</c>, where a layer's
    /// width is its KV heads × head_dim, in the backend's K/V dtype (CPU: float32). <see cref="KvCache"/> owns it.
    /// </summary>
    IKvStorage CreateKvStorage(IReadOnlyList<int> layerWidths, int capacity);

    /// <summary>
    /// Starts a forward step over <paramref name="step"/>'s rows: sets the row count every later call uses, the token
    /// id of each row (for <see cref="Embed"/>), and each row's sequence and absolute position (for
    /// <see cref="Rotary"/>, <see cref="ScaleByLogPosition"/> and <see cref="Attention"/>). Every segment's cache has
    /// already reserved room for its new tokens. The caches' lengths advance only after the step, by the caller.
    /// </summary>
    void BeginStep(ForwardStep step);

    /// <summary>
    /// The scratch buffer for <paramref name="role"/> viewed as <c>[rows, width]</c>: at least <c>rows × width</c> float32
    /// values, valid until the next <see cref="BeginStep"/>; contents are undefined on return (write before reading).
    /// The same role always names the same storage (grown when a step needs more); layers of a non-uniform pruned model
    /// ask the same role with different widths. An architecture declares its roles and their widest widths in
    /// <c>ModelArchitecture.ScratchBuffers</c>, which the memory model sums.
    /// </summary>
    Activation Scratch(string role, int width);

    /// <summary>Bytes of scratch buffers the backend holds now (not weights, not K/V caches).</summary>
    long ScratchBytes { get; }

    /// <summary>Drops scratch buffers if together they exceed <paramref name="keepBytes"/> (after a long prefill).</summary>
    void TrimScratch(long keepBytes);

    /// <summary>output[r, :] = table[token(r), :] in float32; <paramref name="table"/> is <c>[vocab, width]</c>.</summary>
    void Embed(DeviceMatrix table, Activation output);

    /// <summary>
    /// Per row: output = x / sqrt(mean(x²) + eps) · weight, over <c>weight.Length</c> columns. <paramref name="output"/>
    /// may be <paramref name="x"/> (in place).
    /// </summary>
    void RmsNorm(Activation x, DeviceVector weight, float eps, Activation output);

    /// <summary>
    /// Per row: output = (x − mean) / sqrt(var + eps) · weight + bias (biased variance, as torch.nn.LayerNorm).
    /// <paramref name="output"/> may be <paramref name="x"/> (in place).
    /// </summary>
    void LayerNorm(Activation x, DeviceVector weight, DeviceVector bias, float eps, Activation output);

    /// <summary>
    /// For each target: target.Output[r, :] = input[r, :columns] · target.Weightᵀ (+ target.Bias), where the weight is
    /// <c>[outputs, columns]</c>. All targets read the same input (q/k/v, gate/up, Phi's q/k/v/fc1), so a backend may run
    /// them as one dispatch. Outputs must not alias the input or each other. Accumulation is float32.
    /// </summary>
    void Linear(Activation input, IReadOnlyList<LinearOutput> targets);

    /// <summary>
    /// destination[r, :] = source[r, firstColumn .. firstColumn + destination.Width) (splits a fused projection such as
    /// QWen's c_attn into q, k and v). Not in place.
    /// </summary>
    void CopyColumns(Activation source, int firstColumn, Activation destination);

    /// <summary>
    /// Rotates, in place, rows <paramref name="rows"/> of <paramref name="x"/> = <c>heads × headDim</c> columns
    /// (head h at columns h·headDim …) by each row's position from <see cref="BeginStep"/>: in every head the first
    /// <c>table.RotaryDim</c> channels are split in two halves rotated together ("rotate half" layout); channels past
    /// RotaryDim (partial rotary, Phi) pass through unchanged.
    /// </summary>
    void Rotary(Activation x, int heads, int headDim, RotaryTable table, RowRange rows);

    /// <summary>
    /// QWen's log-n attention scaling, in place: each row whose position p satisfies p + 1 &gt; <paramref name="trainedLength"/>
    /// is multiplied by ln(p + 1) / ln(trainedLength); other rows are unchanged.
    /// </summary>
    void ScaleByLogPosition(Activation x, int trainedLength);

    /// <summary>
    /// Causal grouped-query attention of layer <paramref name="layer"/>. First writes each row's k and v
    /// (<c>[rows, kvHeads·headDim]</c>) into its sequence's cache at the row's position; then for each row r and query
    /// head h (KV head h / (heads / kvHeads)): output[r, h] = Σ_j softmax_j(scale · q[r, h] · key_j) · value_j over the
    /// positions j ≤ position(r) of r's sequence, and, when <see cref="AttentionShape.SlidingWindow"/> is positive, only
    /// j &gt; position(r) − window. q is <c>[rows, heads·headDim]</c>, output the same; softmax in float32.
    /// Not in place (output is neither q, k nor v).
    /// </summary>
    void Attention(int layer, Activation q, Activation k, Activation v, Activation output, AttentionShape shape);

    /// <summary>gate ← silu(gate) · up elementwise over <c>rows × gate.Width</c> (SwiGLU). In place in gate.</summary>
    void SiluMultiply(Activation gate, Activation up);

    /// <summary>x ← f(x) elementwise over <c>rows × x.Width</c>, in place.</summary>
    void Activate(ActivationFunction function, Activation x);

    /// <summary>x ← x + delta elementwise over <c>rows × x.Width</c> (the residual stream), in place in x.</summary>
    void Add(Activation x, Activation delta);

    /// <summary>Copies the first <c>rows × x.Width</c> values of <paramref name="x"/> to host memory (observers, final hidden states).</summary>
    void CopyToHost(Activation x, Span<float> destination);

    /// <summary>
    /// float64 running sums that start at <paramref name="initial"/> (zeros, or a resumed pass's totals), held by the backend.
    /// </summary>
    Accumulator CreateAccumulator(ReadOnlySpan<double> initial);

    /// <summary>Copies the current sums to the host (on a GPU after the work queued so far: it synchronises).</summary>
    void ReadAccumulator(Accumulator sums, Span<double> destination);

    /// <summary>
    /// Per column j of <paramref name="x"/>: sum[j] += x[r, j] and sumOfSquares[j] += x[r, j]², in float64, for the step's rows
    /// r = 0, 1, … in order, each one addition onto the running value (so the totals depend neither on the backend's
    /// parallelism nor on how a pass is cut into steps). Both accumulators hold <c>x.Width</c> values.
    /// </summary>
    void AccumulateColumns(Activation x, Accumulator sum, Accumulator sumOfSquares);

    /// <summary>
    /// sums[index] += Σ_r cos(a[r, :], b[r, :]) over the step's rows (<paramref name="a"/> and <paramref name="b"/> of one
    /// width): each row's cosine at least float32-accurate, the rows summed in float64 in a fixed order, then added once.
    /// </summary>
    void AccumulateRowCosines(Activation a, Activation b, Accumulator sums, int index);

    /// <summary>
    /// The final head on host rows: logits[r, :] = hidden[r, :] · headᵀ (+ bias) for <paramref name="rows"/> rows of
    /// <c>head.Columns</c> values; <paramref name="logits"/> is <c>[rows, head.Rows]</c>. Not tied to the current step.
    /// </summary>
    void Logits(ReadOnlySpan<float> hidden, int rows, DeviceMatrix head, DeviceVector? bias, Span<float> logits);

    /// <summary>
    /// Greedy next tokens without a trip through the host: for each i, tokens[i] = the first index of the largest of
    /// <c>hidden[rows[i], :] · headᵀ (+ bias)</c> (ties go to the lower id, as <c>TensorPrimitives.IndexOfMax</c>), or −1 when
    /// that row's logits hold NaN. <paramref name="hidden"/> is an activation of the current step (the final-normed
    /// residual stream); only the chosen rows go through the head.
    /// </summary>
    void GreedyTokens(Activation hidden, ReadOnlySpan<int> rows, DeviceMatrix head, DeviceVector? bias, Span<int> tokens);
}
