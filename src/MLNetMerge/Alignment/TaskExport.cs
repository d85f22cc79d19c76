using MLNetMerge.Encoders;

namespace MLNetMerge.Alignment;

/// <summary>
/// What an encoder-plus-head ONNX graph of one task needs from a fitted model: the encoder weights the task runs with
/// (by the architecture's layout name, without the checkpoint prefix; null for a tensor the model does not have) and the
/// head that reads the embedding: linear (feature transforms fused into it), after a Representation Surgery module when
/// the stage learned one.
/// </summary>
/// <param name="Weights">Encoder weights by layout name.</param>
/// <param name="Head">The task's head.</param>
/// <param name="WeightsKey">Equal for tasks that run the same encoder weights (one graph can serve them with a head each).</param>
/// <param name="Adapter">The task's surgery module between the embedding and the head, or null.</param>
internal sealed record TaskExport(Func<string, float[]?> Weights, TaskHead Head, object WeightsKey, SurgeryAdapter? Adapter = null);
