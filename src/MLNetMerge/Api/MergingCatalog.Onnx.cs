using Microsoft.ML;
using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx;

namespace MLNetMerge;

// The third way out: the fitted merge as ONNX files for ONNX Runtime (or ML.NET's ApplyOnnxModel) anywhere.
public sealed partial class MergingCatalog
{
    /// <summary>
    /// Fits <paramref name="estimator"/> on <paramref name="input"/> and writes the graphs behind its transformer as ONNX
    /// files (opset 17) into <paramref name="directory"/>, atomically: <c>model.onnx</c> when one encoder serves every
    /// task, else <c>{task}.onnx</c> per task. Inputs are the encoder's (<see cref="MergeColumns.PixelValues"/>, or
    /// <see cref="MergeColumns.InputIds"/> and <see cref="MergeColumns.AttentionMask"/>, batch axis symbolic); outputs
    /// carry the chain's column names (<c>Embedding</c>, <c>Score</c>, suffixed <c>.{task}</c> for a merge serving every
    /// task) and <c>logits_{task}</c>. The same estimator, seed and input give byte-identical files. Returns the files
    /// written, relative to <paramref name="directory"/>.
    /// </summary>
    /// <exception cref="OutputExistsException">The directory exists and <paramref name="overwrite"/> is false.</exception>
    public IReadOnlyList<string> SaveAsOnnx(MergeEstimator estimator, IDataView input, string directory, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(directory);
        var (merged, aligned) = estimator.FitModels(input);
        var graphs = MergedChain.Graphs(merged, aligned, estimator.Tasks, estimator.Options.Task is not null, estimator.SharedEncoder);
        var files = new List<string>();
        using var dir = AtomicDirectory.Begin(directory, overwrite);
        foreach (var (graph, model, _) in graphs)
        {
            string name = graphs.Count == 1 ? "model.onnx" : graph.Tasks[0] + ".onnx";
            files.AddRange(OnnxModelWriter.Save(model, dir.PathOf(name), new OnnxWriteOptions()).Select(Path.GetFileName)!);
        }
        dir.Commit();
        return files;
    }
}
