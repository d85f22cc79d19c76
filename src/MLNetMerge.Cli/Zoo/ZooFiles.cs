using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.Nn;

namespace MLNetMerge.Cli.Zoo;

/// <summary>
/// The files every zoo builder writes the same way: an encoder checkpoint (its parameters under the architecture's
/// Hugging Face prefix, plus the task head when there is one, <c>format: pt</c> metadata) and a task's token-id split
/// (<c>{task}/{split}_tokens.npy</c> int32 (N, T) and <c>{task}/{split}_labels.npy</c> int64 (N)).
/// </summary>
internal static class ZooFiles
{
    /// <summary>Writes <paramref name="parameters"/> (names prefixed by <paramref name="prefix"/>) and <paramref name="head"/> to <paramref name="path"/>.</summary>
    public static void SaveEncoder(ParameterArena parameters, string prefix, string path, TaskHead? head)
    {
        var ck = new InMemoryCheckpoint(path);
        for (int i = 0; i < parameters.Layout.Entries.Count; i++)
            ck.Add(prefix + parameters.Layout.Entries[i].Name, parameters.Layout.Entries[i].Shape, parameters.Value(i));
        if (head is not null)
        {
            ck.Add(TaskHead.WeightName, [head.ClassCount, head.InputSize], head.Weight);
            ck.Add(TaskHead.BiasName, [head.ClassCount], head.Bias);
        }
        ck.WithMetadata("format", "pt");
        ck.Save(path);
    }

    /// <summary>Writes a text task's split (token ids stored as floats in <paramref name="data"/>) and names its files.</summary>
    public static ZooSplitFiles SaveTokenSplit(string directory, string task, string split, TaskDataset data)
    {
        Directory.CreateDirectory(Path.Combine(directory, task));
        string tokens = $"{task}/{split}_tokens.npy", labels = $"{task}/{split}_labels.npy";
        var ids = new byte[data.Features.Length * sizeof(int)];                 // (N, T) int32, little-endian
        for (int i = 0; i < data.Features.Length; i++) BitConverter.TryWriteBytes(ids.AsSpan(i * 4, 4), (int)data.Features[i]);
        NpyFile.Write(Path.Combine(directory, tokens), new NpyArray(Tensors.DType.I32, [data.Count, data.FeatureLength], ids));
        NpyFile.Write(Path.Combine(directory, labels), data.RequireLabels().Select(l => (long)l).ToArray(), [data.Count]);
        return new ZooSplitFiles(null, labels, data.Count, tokens);
    }
}
