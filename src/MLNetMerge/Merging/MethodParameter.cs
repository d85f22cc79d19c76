namespace MLNetMerge.Merging;

/// <summary>What kind of value a <see cref="MethodParameter"/> takes.</summary>
internal enum ParameterKind
{
    /// <summary>A real number; may vary per model and over layers.</summary>
    Number,
    /// <summary>One of a fixed set of words (e.g. <c>mean</c> / <c>sum</c>).</summary>
    Choice,
    /// <summary>true / false.</summary>
    Flag,
}

/// <summary>
/// A parameter a merge method declares: its recipe name, kind, default, whether it may be given per model, and the
/// mergekit-style aliases it accepts (an alias may map its value, e.g. DARE's <c>density</c> = 1 − <c>drop</c>).
/// </summary>
/// <param name="Name">Recipe name, e.g. <c>scale</c>.</param>
/// <param name="Kind">Value kind.</param>
/// <param name="Default">Default for numbers (flags: 1 = true).</param>
/// <param name="Description">One line for the docs and <c>--help</c>.</param>
internal sealed record MethodParameter(string Name, ParameterKind Kind, double Default, string Description)
{
    /// <summary>May be set per model (<c>models[i].parameters</c>); e.g. <c>weight</c>.</summary>
    public bool PerModel { get; init; }

    /// <summary>Allowed words of a <see cref="ParameterKind.Choice"/>; the first is the default.</summary>
    public IReadOnlyList<string> Choices { get; init; } = [];

    /// <summary>Smallest allowed number (inclusive).</summary>
    public double Min { get; init; } = double.NegativeInfinity;

    /// <summary>Largest allowed number (inclusive).</summary>
    public double Max { get; init; } = double.PositiveInfinity;

    /// <summary>A number that must be an integer (counts, steps, shots).</summary>
    public bool Integral { get; init; }

    /// <summary>Other names accepted in recipes (mergekit's keys), each with an optional value mapping.</summary>
    public IReadOnlyList<ParameterAlias> Aliases { get; init; } = [];

    /// <summary>Default for a choice parameter.</summary>
    public string DefaultChoice => Choices.Count > 0 ? Choices[0] : "";

    /// <summary>Declares a number parameter.</summary>
    public static MethodParameter Number(string name, double @default, string description, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
        => new(name, ParameterKind.Number, @default, description) { Min = min, Max = max };

    /// <summary>Declares an integer parameter (a number that must be integral).</summary>
    public static MethodParameter Integer(string name, int @default, string description, int min = 0, int max = int.MaxValue)
        => new(name, ParameterKind.Number, @default, description) { Min = min, Max = max, Integral = true };

    /// <summary>Declares a choice parameter; the first choice is the default.</summary>
    public static MethodParameter Choice(string name, string description, params string[] choices)
        => new(name, ParameterKind.Choice, 0, description) { Choices = choices };

    /// <summary>Declares a flag parameter.</summary>
    public static MethodParameter Flag(string name, bool @default, string description)
        => new(name, ParameterKind.Flag, @default ? 1 : 0, description);
}

/// <summary>An alternative recipe name for a parameter, with an optional mapping of its value.</summary>
/// <param name="Name">The alias, e.g. <c>density</c>.</param>
/// <param name="Map">Maps the alias's number to the parameter's (null: identity).</param>
internal sealed record ParameterAlias(string Name, Func<double, double>? Map = null);
