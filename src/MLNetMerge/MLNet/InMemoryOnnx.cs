using Microsoft.ML;
using Microsoft.ML.Transforms.Onnx;

namespace MLNetMerge.MLNet;

/// <summary>
/// ONNX bytes held in memory → ML.NET's own <see cref="OnnxTransformer"/>, without leaving files behind.
/// <para>
/// <c>ApplyOnnxModel(Stream)</c> copies the model into <c>MLContext.TempFilePath</c> and never deletes the copy (ML.NET
/// 6.0.0), even after Dispose. So the transformer is fitted in a private context whose temp folder is a private
/// sub-folder, saved to a memory stream, the folder deleted, and the stream loaded in the caller's context: a loaded
/// OnnxTransformer owns its temp copy (in the caller's <c>TempFilePath</c>) and deletes it when disposed — or, if nobody
/// disposes it, when the process exits (<see cref="TempCopyCleanup"/>).
/// </para>
/// </summary>
internal static class InMemoryOnnx
{
    /// <summary>
    /// Binds <paramref name="onnx"/> to <paramref name="settings"/>' columns and returns ML.NET's OnnxTransformer,
    /// loaded in <paramref name="ml"/> (its log, its temp folder). No data is needed: the transformer is fitted on an
    /// empty view typed from the model's signature. The result is savable with <c>ml.Model.Save</c> (the zip stores
    /// the ONNX bytes and the shape dictionary) and must be disposed to delete its temp copy.
    /// </summary>
    /// <exception cref="ArgumentException">The bytes are not a model, or a column is not among the graph's inputs/outputs.</exception>
    public static OnnxTransformer Create(MLContext ml, byte[] onnx, OnnxScoringSettings settings)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(settings);
        var signature = OnnxSignature.Read(onnx);
        CheckColumns(signature, settings);
        using var zip = new MemoryStream();
        int? device = null;
        InPrivateContext(ml, priv =>
        {
            var empty = EmptyInputs(signature, settings);
            // Scoring never happens in the private context: CPU there, the requested device on the loaded copy.
            using var fitted = OrtNameCollision.Retry(priv.TempFilePath, onnx, () =>
            {
                using var model = new MemoryStream(onnx, writable: false);
                return priv.Transforms.ApplyOnnxModel(settings.OutputColumns, settings.InputColumns, model, settings.ShapeDictionary, null, false, settings.RecursionLimit).Fit(empty);
            });
            priv.Model.Save(fitted, empty.Schema, zip);
            device = ProbeDevice(priv, zip, onnx, settings);
        });
        return Load(ml, zip, onnx, device, settings.FallbackToCpu);
    }

    /// <summary>
    /// The output schema an OnnxTransformer of <paramref name="signature"/> gives on <paramref name="input"/>, before any
    /// model exists: asked of an ApplyOnnxModel estimator over <see cref="WeightlessOnnxGraph"/> in a private context
    /// (so no file is left). For an estimator's <c>GetOutputSchema</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A column is not among the signature's inputs/outputs.</exception>
    /// <remarks>An input column that is missing from <paramref name="input"/> or has the wrong type fails ML.NET's own schema check, with ML.NET's exception.</remarks>
    public static SchemaShape OutputSchema(MLContext ml, OnnxSignature signature, OnnxScoringSettings settings, SchemaShape input)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(settings);
        CheckColumns(signature, settings);
        SchemaShape? result = null;
        InPrivateContext(ml, priv =>
        {
            byte[] weightless = WeightlessOnnxGraph.Build(signature);
            var estimator = OrtNameCollision.Retry(priv.TempFilePath, weightless, () =>
            {
                using var model = new MemoryStream(weightless, writable: false);
                return priv.Transforms.ApplyOnnxModel(settings.OutputColumns, settings.InputColumns, model, settings.ShapeDictionary, null, false, settings.RecursionLimit);
            });
            result = estimator.GetOutputSchema(input);
        });
        return result!;
    }

    /// <summary>An empty view whose columns have exactly the types the model's inputs ask for.</summary>
    internal static ArrayDataView EmptyInputs(OnnxSignature signature, OnnxScoringSettings settings)
    {
        var builder = new ArrayDataViewBuilder();
        foreach (string name in settings.InputColumns)
        {
            var spec = signature.Inputs.First(i => i.Name == name);
            if (settings.ShapeDictionary?.TryGetValue(name, out var shape) == true) spec = spec with { Dims = [.. shape.Select(d => (long)d)] };
            if (spec.Type == OnnxElementType.Int64) builder.AddInt64Vector(name, [], spec.RowSize);
            else builder.AddFloatVector(name, [], spec.RowSize);
        }
        return builder.Build();
    }

    private static void CheckColumns(OnnxSignature signature, OnnxScoringSettings settings)
    {
        foreach (string c in settings.InputColumns)
            if (!signature.Inputs.Any(i => i.Name == c))
                throw new ArgumentException($"input column '{c}' is not a graph input; the model's inputs are {string.Join(", ", signature.Inputs.Select(i => i.Name))}.");
        foreach (string c in settings.OutputColumns)
            if (!signature.Outputs.Any(o => o.Name == c))
                throw new ArgumentException($"output column '{c}' is not a graph output; the model's outputs are {string.Join(", ", signature.Outputs.Select(o => o.Name))}.");
    }

    /// <summary>Runs <paramref name="work"/> in a fresh context whose temp folder is a private sub-folder of the caller's, deleted afterwards.</summary>
    internal static void InPrivateContext(MLContext ml, Action<MLContext> work)
    {
        string folder = Path.Combine(ml.TempFilePath, "mlnetmerge-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try { work(new MLContext(seed: 0) { TempFilePath = folder }); }
        finally { Directory.Delete(folder, recursive: true); }
    }

    /// <summary>
    /// The device to load on. ML.NET's own fallback covers errors of a CUDA provider that exists; when the native library
    /// has none (the CPU package) the load throws, and leaves its temp copy behind. So a GPU request is tried first in the
    /// private context: CPU (null) if it fails and <see cref="OnnxScoringSettings.FallbackToCpu"/> is on, else a one-line error.
    /// </summary>
    private static int? ProbeDevice(MLContext priv, MemoryStream zip, byte[] onnx, OnnxScoringSettings settings)
    {
        if (settings.GpuDeviceId is null) return null;
        try
        {
            using var probe = Load(priv, zip, onnx, settings.GpuDeviceId, settings.FallbackToCpu);
            return settings.GpuDeviceId;
        }
        catch (Exception e) when (NoCudaProvider(e))
        {
            return settings.FallbackToCpu ? null
                : throw new InvalidOperationException($"GPU {settings.GpuDeviceId} was requested, but the ONNX Runtime native library has no CUDA provider (reference Microsoft.ML.OnnxRuntime.Gpu instead of Microsoft.ML.OnnxRuntime), and FallbackToCpu is off.", e);
        }
    }

    /// <summary>
    /// Loads the saved transformer in <paramref name="ml"/>, whose device settings a loading OnnxTransformer takes: set
    /// for the load, restored after. The load copies <paramref name="onnx"/> (the bytes the zip holds) into
    /// <paramref name="ml"/>'s temp folder under a random name, so it goes through <see cref="OrtNameCollision"/>.
    /// </summary>
    private static OnnxTransformer Load(MLContext ml, MemoryStream zip, byte[] onnx, int? gpuDeviceId, bool fallbackToCpu) =>
        OrtNameCollision.Retry(ml.TempFilePath, onnx, () =>
        {
            zip.Position = 0;
            return LoadOnce(ml, zip, gpuDeviceId, fallbackToCpu);
        });

    private static OnnxTransformer LoadOnce(MLContext ml, Stream zip, int? gpuDeviceId, bool fallbackToCpu)
    {
        lock (ml)
        {
            int? device = ml.GpuDeviceId;
            bool fallback = ml.FallbackToCpu;
            try
            {
                ml.GpuDeviceId = gpuDeviceId;
                ml.FallbackToCpu = fallbackToCpu;
                var loaded = ml.Model.Load(zip, out _);
                return TempCopyCleanup.Track(loaded as OnnxTransformer
                    ?? throw new InvalidOperationException($"ML.NET loaded a {loaded.GetType().Name} where an OnnxTransformer was saved."));
            }
            finally
            {
                ml.GpuDeviceId = device;
                ml.FallbackToCpu = fallback;
            }
        }
    }

    private static bool NoCudaProvider(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is EntryPointNotFoundException or DllNotFoundException) return true;
        return false;
    }
}
