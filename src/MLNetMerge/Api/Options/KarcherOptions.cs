namespace MLNetMerge;

/// <summary>Settings of mergekit's karcher: the Riemannian (Karcher) mean of the models' weight directions on the
/// sphere, at their mean norm (Goddard et al. 2024, arXiv:2403.13257; Karcher 1977). Defaults are the method's
/// declared parameters (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class KarcherOptions : MergeOptions
{
    internal override string MethodName => "karcher";

    /// <summary>Most fixed-point iterations. Default 10.</summary>
    [RecipeParameter("max_iter")]
    public int MaxIterations { get; set; } = (int)Declared.MergeNumber("karcher", "max_iter");

    /// <summary>Convergence tolerance (and the smallest norm and angle that count). Default 1e-5.</summary>
    [RecipeParameter("tol")]
    public double Tolerance { get; set; } = Declared.MergeNumber("karcher", "tol");
}
