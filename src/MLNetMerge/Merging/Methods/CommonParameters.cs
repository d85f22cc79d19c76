namespace MLNetMerge.Merging.Methods;

/// <summary>Parameter declarations shared by several methods, so names, aliases and ranges agree everywhere.</summary>
internal static class CommonParameters
{
    /// <summary><c>scale</c> (λ), alias mergekit's <c>lambda</c>.</summary>
    public static MethodParameter Scale(double @default) =>
        MethodParameter.Number("scale", @default, "λ: multiplies the combined task vector.", -100, 100) with { Aliases = [new("lambda")] };

    /// <summary>Per-model <c>weight</c> of each task vector (default 1).</summary>
    public static MethodParameter Weight() =>
        MethodParameter.Number("weight", 1.0, "Per-model weight of its task vector.", -100, 100) with { PerModel = true };

    /// <summary>TIES trim fraction <c>keep</c>, alias mergekit's <c>density</c>.</summary>
    public static MethodParameter Keep(double @default) =>
        MethodParameter.Number("keep", @default, "Fraction of each task vector kept by magnitude (TIES trim).", 0, 1) with { PerModel = true, Aliases = [new("density")] };

    /// <summary>DARE drop probability <c>drop</c>; mergekit's <c>density</c> is 1 − drop.</summary>
    public static MethodParameter Drop(double @default) =>
        MethodParameter.Number("drop", @default, "DARE drop probability p.", 0, 1) with { PerModel = true, Aliases = [new("density", v => 1 - v)] };

    /// <summary>
    /// The disjoint merge of agreeing values, <c>merge: mean|sum</c>; mergekit's <c>normalize: true|false</c> is an alias
    /// (true → mean, false → sum).
    /// </summary>
    public static MethodParameter MeanOrSum(string description) =>
        MethodParameter.Choice("merge", description + " mergekit's normalize: true/false means mean/sum.", "mean", "sum")
            with { Aliases = [new("normalize") { MapWord = w => w switch { "true" => "mean", "false" => "sum", _ => w } }] };

    /// <summary>mergekit's <c>int8_mask</c> (a memory switch for its mask tensors): accepted so its recipes load, no effect here.</summary>
    public static MethodParameter Int8Mask() =>
        MethodParameter.Flag("int8_mask", false, "mergekit's memory switch for its mask tensors; accepted for recipe compatibility, no effect here.");

    /// <summary>
    /// The sign elected where the weighted sum Σt wt τ̂t of an element is exactly 0: the model's majority sign (the TIES
    /// authors' code) or + (mergekit's <c>sum ≥ 0</c>, which a <c>merge_method</c> recipe implies).
    /// </summary>
    public static MethodParameter SignTie() =>
        MethodParameter.Choice("sign_tie", "Sign elected where the weighted sum is exactly 0: the model's majority sign, or + (mergekit's).", "majority", "positive");

    /// <summary>DARE's rescale switch.</summary>
    public static MethodParameter Rescale() => MethodParameter.Flag("rescale", true, "Divide DARE's survivors by 1 − p (false: drop only).");
}
