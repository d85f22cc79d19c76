using MLNetMerge.Data;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Tensors;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// <c>embed</c>'s input checks: the NPY must be what the model takes, or the command refuses it naming the file and what
/// was expected. Vision models take floating-point examples (N, C, H, W) of the model's channels and image size, MLP models
/// (N, F) of its feature count; an
/// integer array is refused (token ids fit text models), uint8 pixels are refused unless <c>--pixels zoo</c> names how
/// they become inputs (the bundled zoos' <c>x = b / 127.5 − 1</c>); NaN or infinity is refused; vision inputs whose
/// magnitude exceeds <see cref="MaxPixelMagnitude"/> are refused as un-normalised pixels (a normalised image is within a
/// few units of 0: (x − mean)/std with ImageNet's or CLIP's statistics stays inside ±3). Text models take integer token ids
/// (N, T) inside the vocabulary and a 0/1 mask of the same shape.
/// </summary>
internal static class EmbedInputs
{
    /// <summary>The <c>--pixels</c> value for the bundled zoos' normalisation of uint8 pixels.</summary>
    public const string ZooPixels = "zoo";

    /// <summary>The largest magnitude a normalised vision input may have.</summary>
    public const float MaxPixelMagnitude = 20f;

    /// <summary>Reads the examples of a vision or MLP model as float32 (N, InputSize), checked.</summary>
    /// <param name="path">The NPY file.</param>
    /// <param name="model">The encoder.</param>
    /// <param name="image">A vision model's (C, H, W); null for an MLP, whose examples are (F).</param>
    /// <param name="pixels">The <c>--pixels</c> value, or null.</param>
    /// <exception cref="MergeException">Wrong dtype, shape, non-finite values, or un-normalised pixels.</exception>
    public static (float[] Data, int[] Shape) ReadDense(string path, IDenseEncoder model, int[]? image, string? pixels)
    {
        if (pixels is not null && pixels != ZooPixels) throw new MergeException(null, null, $"--pixels '{pixels}' is not '{ZooPixels}'.");
        bool vision = image is not null;
        var (dtype, descr, shape) = NpyFile.ReadHeader(path);
        string takes = vision ? $"float32 pixel values (N, C, H, W) normalised as in training" : $"float32 features (N, {model.InputSize})";
        int[] example = image ?? [model.InputSize];
        if (shape.Length != example.Length + 1 || !shape.AsSpan(1).SequenceEqual(example))
            throw new MergeException(path, null, $"input of shape [{string.Join(", ", shape)}] does not fit {model.ArchitectureName}: expected (N, {string.Join(", ", example)}).");
        float[] data;
        if (dtype == DType.U8 && vision)
        {
            if (pixels is null)
                throw new MergeException(path, null, $"holds uint8 pixels ('{descr}'), but {model.ArchitectureName} takes {takes}; for the bundled zoos pass --pixels {ZooPixels} (x = b / 127.5 − 1), otherwise normalise them as the model was trained and save float32.");
            var raw = NpyFile.Read(path).Data;
            data = new float[raw.Length];
            for (int i = 0; i < raw.Length; i++) data[i] = ZooManifest.NormalizePixel(raw[i]);
            return (data, shape);
        }
        if (pixels is not null) throw new MergeException(path, null, $"--pixels {ZooPixels} applies to uint8 pixels; this input is '{descr}'.");
        if (!dtype.IsFloatingPoint())
            throw new MergeException(path, null, $"holds {dtype} values ('{descr}'), but {model.ArchitectureName} takes {takes}; integer token ids fit text models (bert, roberta) only.");
        (data, _) = NpyFile.ReadFloat32(path);
        CheckFinite(path, data, model.InputSize);
        if (vision && data.Length > 0)
        {
            float max = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude<float>(data);
            if (max > MaxPixelMagnitude)
                throw new MergeException(path, null, $"holds values up to {max:G4} in magnitude: raw pixel values? {model.ArchitectureName} takes pixels normalised as in training ((x − mean) / std, within a few units of 0).");
        }
        return (data, shape);
    }

    /// <summary>Reads token ids (N, T) and a 0/1 mask of the same shape for a text model: the given one, or without
    /// <paramref name="maskPath"/> 1 wherever the id is not the model's padding id (as the library's zoo loader builds it).</summary>
    /// <exception cref="MergeException">Floating-point or boolean ids, a wrong rank, sequences longer than the model's
    /// positions, ids outside the vocabulary, or a bad mask.</exception>
    public static (int[] Ids, bool[] Mask, int[] Shape) ReadText(string path, string? maskPath, TextEncoderConfig config)
    {
        int vocabulary = config.VocabSize;
        var (dtype, descr, _) = NpyFile.ReadHeader(path);
        if (dtype.IsFloatingPoint() || dtype == DType.Bool)
            throw new MergeException(path, null, $"holds {(dtype == DType.Bool ? "booleans" : "floating-point values")} ('{descr}'), but text models take integer token ids (N, T).");
        var (ids, shape) = NpyFile.ReadInt64(path);
        if (shape.Length != 2) throw new MergeException(path, null, $"token ids must be (N, T); got [{string.Join(", ", shape)}].");
        if (shape[1] == 0 && shape[0] > 0) throw new MergeException(path, null, $"token ids of shape [{shape[0]}, 0]: every sequence needs at least one token (the first, [CLS], is what the model pools).");
        int positions = config.MaxPositions - (config.Flavor == TextFlavor.Roberta ? config.PadTokenId + 1 : 0);
        if (shape[1] > positions)
            throw new MergeException(path, null, $"sequences of {shape[1]} tokens; the model has {positions} positions (truncate to at most {positions}).");
        var tokenIds = new int[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            if (ids[i] < 0 || ids[i] >= vocabulary)
                throw new MergeException(path, null, $"token id {ids[i]} at index {i} is outside the vocabulary of {vocabulary}.");
            tokenIds[i] = (int)ids[i];
        }
        bool[] mask = tokenIds.Select(id => id != config.PadTokenId).ToArray();
        if (maskPath is not null)
        {
            var (mv, ms) = NpyFile.ReadInt64(maskPath);
            if (!ms.AsSpan().SequenceEqual(shape)) throw new MergeException(maskPath, null, $"mask shape [{string.Join(", ", ms)}] differs from the ids' [{string.Join(", ", shape)}].");
            for (int i = 0; i < mv.Length; i++)
                if (mv[i] is not (0 or 1)) throw new MergeException(maskPath, null, $"mask value {mv[i]} at index {i}; a mask holds 0 (padding) or 1 (token).");
            mask = mv.Select(v => v != 0).ToArray();
        }
        return (tokenIds, mask, shape);
    }

    private static void CheckFinite(string path, float[] data, int perExample)
    {
        if (data.Length == 0 || float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude<float>(data))) return;
        int i = Array.FindIndex(data, v => !float.IsFinite(v));
        throw new MergeException(path, null, $"holds {data[i]} at element {i} (example {i / Math.Max(1, perExample)}); inputs must be finite.");
    }
}
