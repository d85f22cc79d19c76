using Microsoft.ML;
using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Export;

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
    /// written, relative to <paramref name="directory"/>. The folder also gets a <c>manifest.json</c> (format
    /// <c>mlnetmerge.onnx-export</c>) by which a later <paramref name="overwrite"/> recognises it.
    /// </summary>
    /// <exception cref="OutputExistsException">The directory exists and <paramref name="overwrite"/> is false.</exception>
    /// <exception cref="UnsafeOverwriteException">The directory is or holds one of the family's files, or it exists and is
    /// not a folder an earlier MLNetMerge run wrote (docs/outputs.md); checked before the merge is fitted.</exception>
    public IReadOnlyList<string> SaveAsOnnx(MergeEstimator estimator, IDataView input, string directory, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(directory);
        // The same output rule as the command line's --force, before any work: never replace what the merge reads.
        var family = estimator.Family;
        var inputs = family.Family.Tasks.Select(t => t.Reader.Path).Append(family.BasePath).Append(family.VocabularyPath).OfType<string>().ToList();
        using var dir = AtomicDirectory.Begin(directory, overwrite, inputs, log: null);
        var (merged, aligned) = estimator.FitModels(input);
        var graphs = MergedChain.Graphs(merged, aligned, estimator.Tasks, estimator.Options.Task is not null, estimator.SharedEncoder);
        var files = new List<string>();
        foreach (var (graph, model, _) in graphs)
        {
            string name = graphs.Count == 1 ? "model.onnx" : graph.Tasks[0] + ".onnx";
            files.AddRange(OnnxModelWriter.Save(model, dir.PathOf(name), new OnnxWriteOptions()).Select(Path.GetFileName)!);
        }
        ExportManifest.Write(dir.PathOf(ExportManifest.FileName), estimator.Method.Name, estimator.Stage?.Name, estimator.Tasks, files);
        dir.Commit();
        return files;
    }
}
