using Microsoft.ML;

namespace MLNetMerge;

/// <summary>MLNetMerge's entry point on ML.NET's context.</summary>
public static class MLContextExtensions
{
    /// <summary>Model merging: load families, merge, align, evaluate (<see cref="MergingCatalog"/>).</summary>
    public static MergingCatalog Merging(this MLContext mlContext) => new(mlContext);
}
