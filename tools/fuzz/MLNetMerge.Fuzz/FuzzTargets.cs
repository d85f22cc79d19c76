using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Errors;
using MLNetMerge.Recipes;
using MLNetMerge.Tensors;

namespace MLNetMerge.Fuzz;

/// <summary>
/// What the fuzz campaign runs on one input, per target: open the bytes as a safetensors file, a PyTorch checkpoint
/// (zip or legacy pickle), an ONNX model, an NPY array, or a recipe, and read everything in it (every tensor decoded to
/// float32 or copied raw; every recipe section parsed and the parameters resolved). The contract: an input either reads
/// or fails with a <see cref="MergeException"/> (typed, one line naming the file); any other exception is a bug.
/// Compiled into the fuzz harness (tools/fuzz) and into the tests, which replay the committed corpus and crashers.
/// </summary>
internal static class FuzzTargets
{
    /// <summary>The targets and the file extension their input is saved under.</summary>
    public static readonly IReadOnlyDictionary<string, string> Extensions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["safetensors"] = ".safetensors", ["pytorch"] = ".pt", ["onnx"] = ".onnx", ["npy"] = ".npy", ["recipe"] = ".yaml",
    };

    /// <summary>Largest tensor decoded (elements); larger ones are read as a slice, so a header may not make the fuzzer
    /// allocate gigabytes (the readers check offsets against the file, so a real tensor fits in the input anyway).</summary>
    private const long MaxDecoded = 1 << 22;

    /// <summary>Runs <paramref name="target"/> on <paramref name="input"/>, saved at <paramref name="path"/> first (the
    /// readers take paths). Returns normally when the input reads; throws <see cref="MergeException"/> when it is refused.</summary>
    public static void Run(string target, byte[] input, string path)
    {
        File.WriteAllBytes(path, input);
        switch (target)
        {
            case "safetensors":
                using (var r = SafetensorsReader.Open(path)) ReadAll(r);
                break;
            case "pytorch":
            case "onnx":
                using (var r = CheckpointReader.Open(path)) ReadAll(r);
                break;
            case "npy":
                var array = NpyFile.Read(path);
                _ = NpyFile.ReadFloat32(path);
                if (!array.DType.IsFloatingPoint()) _ = NpyFile.ReadInt64(path);
                break;
            case "recipe":
                var recipe = MergeRecipe.Parse(System.Text.Encoding.UTF8.GetString(input), path, Path.GetDirectoryName(path));
                _ = recipe.ResolveParameters();
                _ = SweepSection.Read(recipe);
                _ = EvaluateSection.Read(recipe);
                _ = AlignSection.Read(recipe);
                _ = ExportSection.Read(recipe);
                _ = recipe.ToYaml();
                break;
            default:
                throw new ArgumentException($"unknown fuzz target '{target}'; targets: {string.Join(", ", Extensions.Keys)}.", nameof(target));
        }
    }

    private static void ReadAll(ICheckpointReader reader)
    {
        _ = reader.Metadata.Count;
        foreach (var t in reader.Tensors)
        {
            long n = Math.Min(t.ElementCount, MaxDecoded);
            if (t.DType.IsFloatingPoint())
            {
                var values = new float[n];
                if (n == t.ElementCount) reader.ReadFloat32(t, values);
                else reader.ReadFloat32(t, 0, values);
            }
            else if (t.ByteLength <= MaxDecoded * 8)
            {
                reader.ReadRaw(t, new byte[t.ByteLength]);
            }
        }
    }
}
