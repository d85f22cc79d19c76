using MLNetMerge.Alignment;
using MLNetMerge.Merging;

namespace MLNetMerge.Recipes;

/// <summary>The steps of a recipe run, in the order they run. A step runs when it is asked for and the recipe has what it
/// needs (a <c>sweep:</c> grid, <c>align:</c> stages, an <c>export:</c> section, an output folder).</summary>
[Flags]
internal enum RecipeSteps
{
    /// <summary>Select merge parameters on validation (<c>sweep:</c>).</summary>
    Sweep = 1,
    /// <summary>Fit the <c>align:</c> stages after the merge.</summary>
    Align = 2,
    /// <summary>Write the merge (and the fitted stages) into the output folder.</summary>
    Save = 4,
    /// <summary>Evaluate on the zoo's test splits (<c>evaluate:</c>, with its defaults when the section is absent).</summary>
    Evaluate = 8,
    /// <summary>Export ONNX (<c>export:</c>).</summary>
    Export = 16,
    /// <summary>Write <c>report.json</c> of the evaluation.</summary>
    Report = 32,
    /// <summary><c>mlnetmerge merge</c>: the merge into the output folder, streamed tensor by tensor.</summary>
    Merge = Save,
    /// <summary><c>mlnetmerge evaluate</c>: sweep, merge in memory, evaluate, report.</summary>
    EvaluateOnly = Sweep | Evaluate | Report,
    /// <summary><c>mlnetmerge align</c>: sweep, merge, fit the stages, evaluate the merge and every stage, report.</summary>
    AlignAndEvaluate = Sweep | Align | Evaluate | Report,
    /// <summary><c>mlnetmerge run</c>: every section the recipe has (evaluation only with an <c>evaluate:</c> section).</summary>
    All = Sweep | Align | Save | Evaluate | Export | Report,
}

/// <summary>Settings of <see cref="RecipeRunner.Run"/>: which steps, where the output goes, and how the run reports.</summary>
internal sealed class RecipeRunOptions
{
    /// <summary>The steps to run. Default <see cref="RecipeSteps.All"/>.</summary>
    public RecipeSteps Steps { get; init; } = RecipeSteps.All;

    /// <summary>Output folder (overrides the recipe's <c>output</c>). Default null: the recipe's.</summary>
    public string? Output { get; init; }

    /// <summary>Replace an existing output (and export) folder that a previous run wrote — only a folder whose
    /// <c>manifest.json</c> is MLNetMerge's and that holds none of the run's inputs (docs/outputs.md). Default false.</summary>
    public bool Overwrite { get; init; }

    /// <summary>Tasks to materialize besides the recipe's <c>materialize</c> list. Default none.</summary>
    public IReadOnlyList<string> Materialize { get; init; } = [];

    /// <summary>Worker threads of the merge. Default: processor count.</summary>
    public int MaxThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>Copy every tensor read out of a memory map instead of with positional reads. Default false; F32 safetensors
    /// slices that a merge reads in place come from a read-only mapping either way.</summary>
    public bool MemoryMap { get; init; }

    /// <summary>Where <c>report.json</c> goes (overrides <c>evaluate.report</c>). Default null: the output folder, else
    /// <c>out/run/&lt;recipe name&gt;/</c>.</summary>
    public string? Report { get; init; }

    /// <summary>Where stage names are looked up. Default null: <see cref="AlignmentMethods.All"/>.</summary>
    public IReadOnlyList<AlignmentMethod>? AlignmentMethods { get; init; }

    /// <summary>Progress lines. Default: none.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Progress of merges, stages and evaluation. Default: none.</summary>
    public IProgress<MergeProgress>? Progress { get; init; }

    /// <summary>Cancels between steps, tensors and batches; a cancelled run leaves no output behind.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Bounds already computed for the same zoo, checkpoints and protocols (a demo evaluates many recipes of one
    /// family and computes its base and individual rows once).</summary>
    internal RecipeBoundsCache? Bounds { get; init; }

    /// <summary>Writes the ML.NET model zips and their C# of <c>export.mlnet</c> into the request's folder and returns the
    /// files written, relative to it. Set by the entry points that sit above the recipes (<c>MergingCatalog.RunRecipe</c>,
    /// <c>mlnetmerge run</c>); a recipe asking for zips without it fails.</summary>
    internal IModelZipWriter? ModelZips { get; init; }

    /// <summary>These options with other steps.</summary>
    internal RecipeRunOptions WithSteps(RecipeSteps steps) => new()
    {
        Steps = steps, Output = Output, Overwrite = Overwrite, Materialize = Materialize, MaxThreads = MaxThreads, MemoryMap = MemoryMap,
        Report = Report, AlignmentMethods = AlignmentMethods, Log = Log, Progress = Progress, CancellationToken = CancellationToken, Bounds = Bounds,
        ModelZips = ModelZips,
    };

    /// <summary>These options with <paramref name="writer"/> writing the ML.NET zips (unless one is set already).</summary>
    internal RecipeRunOptions WithModelZips(IModelZipWriter writer) =>
        ModelZips is not null ? this : new RecipeRunOptions
        {
            Steps = Steps, Output = Output, Overwrite = Overwrite, Materialize = Materialize, MaxThreads = MaxThreads, MemoryMap = MemoryMap,
            Report = Report, AlignmentMethods = AlignmentMethods, Log = Log, Progress = Progress, CancellationToken = CancellationToken, Bounds = Bounds,
            ModelZips = writer,
        };
}
