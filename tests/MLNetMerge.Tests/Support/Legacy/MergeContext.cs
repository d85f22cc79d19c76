namespace MLNetMerge.Tests;

/// <summary>
/// The entry point, like ML.NET's MLContext: catalogs of operations sharing one seed.
/// <c>var ctx = new MergeContext(seed: 0); var merged = ctx.Merging.Ties().Fit(ctx.Model.LoadFamily(...));</c>
/// </summary>
internal sealed class MergeContext
{
    /// <summary>Creates a context; the seed drives every randomised method and sampler.</summary>
    public MergeContext(int seed = 0)
    {
        if (seed < 0) throw new ArgumentOutOfRangeException(nameof(seed), "the seed must be non-negative.");
        Seed = (ulong)seed;
        Model = new ModelCatalog();
        Merging = new MergingCatalog(this);
        Alignment = new AlignmentCatalog(this);
        Data = new DataCatalog(this);
        Evaluation = new EvaluationCatalog(this);
    }

    /// <summary>The seed.</summary>
    public ulong Seed { get; }

    /// <summary>Families, saving and loading merged models.</summary>
    public ModelCatalog Model { get; }

    /// <summary>Merge methods.</summary>
    public MergingCatalog Merging { get; }

    /// <summary>Alignment stages fitted after a merge on task data (FT-Classifier, aligned transforms, AdaMerging, …).</summary>
    public AlignmentCatalog Alignment { get; }

    /// <summary>Task data: zoo splits, few-shot samples, dropping labels.</summary>
    public DataCatalog Data { get; }

    /// <summary>Evaluation protocols and per-task metrics.</summary>
    public EvaluationCatalog Evaluation { get; }
}
