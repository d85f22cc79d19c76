using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;

namespace MLNetMerge.Export;

/// <summary>
/// Rebuilds an EMR task's weights from a merged model that holds only the unified weights <c>u = θ0 + τuni</c>, its packed
/// masks and rescalers, and the base θ0: <c>θ̂t = θ0 + γt · (Mt ⊙ (u − θ0))</c>, masks 8 per byte, least significant bit first.
/// </summary>
internal sealed class EmrTaskWeights(MergedModel model, ICheckpointReader baseModel)
{
    /// <summary>True when <paramref name="model"/> is an EMR merge these weights can be rebuilt from.</summary>
    public static bool CanRebuild(MergedModel model) => model.Summary.Method.Name == "emr";

    /// <summary>Task <paramref name="task"/>'s weight <paramref name="name"/> (a key of the merged tensors).</summary>
    public float[] Rebuild(string task, string name)
    {
        float[] unified = model.Tensors[name];
        if (!baseModel.TryGetTensor(name, out var info) || info.ElementCount != unified.Length)
            throw new IncompatibleModelsException(baseModel.Path, name, $"is missing from the base model or has another size than the merged tensor ({unified.Length} elements).");
        var theta = new float[unified.Length];                       // θ0, then θ̂t in place
        baseModel.ReadFloat32(info, theta);
        int t = model.TaskNames.ToList().IndexOf(task);
        float gamma = model.Modulators.TryGetValue("rescalers", out var g) ? g[t] : 1f;
        model.ModulatorBytes.TryGetValue($"masks.{task}.{name}", out var mask);
        for (int i = 0; i < theta.Length; i++)
        {
            bool keep = mask is null || ((mask[i >> 3] >> (i & 7)) & 1) != 0;
            if (keep) theta[i] += gamma * (unified[i] - theta[i]);
        }
        return theta;
    }
}
