using System.Globalization;

namespace MLNetMerge.Merging;

/// <summary>
/// The parameters of one merge run, checked against the method's declarations: global values, per-model values and
/// defaults, with aliases already mapped to their canonical names. Per-model values win over global ones.
/// </summary>
internal sealed class MergeParameters
{
    private readonly Dictionary<string, MethodParameter> _declared;
    private readonly Dictionary<string, ParameterValue> _global;
    private readonly Dictionary<string, ParameterValue>[] _perModel;

    /// <summary>Checks and normalises the given values.</summary>
    /// <param name="method">The method whose declarations apply.</param>
    /// <param name="global">Recipe <c>parameters:</c> (names or aliases).</param>
    /// <param name="perModel">Each model's <c>parameters:</c>, in task order (null entries allowed).</param>
    /// <param name="source">File name for error messages.</param>
    /// <exception cref="RecipeException">Unknown name, value of the wrong kind, out of range, or a non-per-model parameter set per model.</exception>
    public MergeParameters(MergeMethod method, IReadOnlyDictionary<string, ParameterValue>? global,
        IReadOnlyList<IReadOnlyDictionary<string, ParameterValue>?> perModel, string? source = null)
    {
        Method = method;
        _declared = method.Parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        _global = Normalise(global, perModelScope: false, source);
        _perModel = perModel.Select(p => Normalise(p, perModelScope: true, source)).ToArray();
    }

    /// <summary>The method.</summary>
    public MergeMethod Method { get; }

    /// <summary>Number of models the per-model values were given for.</summary>
    public int ModelCount => _perModel.Length;

    private Dictionary<string, ParameterValue> Normalise(IReadOnlyDictionary<string, ParameterValue>? given, bool perModelScope, string? source)
    {
        var result = new Dictionary<string, ParameterValue>(StringComparer.Ordinal);
        if (given is null) return result;
        foreach (var (key, value) in given)
        {
            var (decl, alias) = Find(key) ?? throw new RecipeException(source,
                Method.Parameters.Count == 0
                    ? $"method '{Method.Name}' has no parameter '{key}'; it takes none."
                    : $"method '{Method.Name}' has no parameter '{key}'; it takes: {string.Join(", ", Method.Parameters.Select(p => p.Name))}.");
            if (perModelScope && !decl.PerModel)
                throw new RecipeException(source, $"parameter '{decl.Name}' of '{Method.Name}' cannot be set per model.");
            if (result.ContainsKey(decl.Name))
                throw new RecipeException(source, $"parameter '{decl.Name}' is given twice (directly and through an alias).");
            var mapped = alias is null ? value : MapValue(value, alias);
            Validate(decl, mapped, source);
            result[decl.Name] = mapped;
        }
        return result;
    }

    private (MethodParameter, ParameterAlias?)? Find(string key) => Method.FindParameter(key);

    private static ParameterValue MapValue(ParameterValue v, ParameterAlias alias)
    {
        if (alias.MapWord is not null && v is ParameterValue.Text word) return new ParameterValue.Text(alias.MapWord(word.Value));
        return alias.Map is null ? v : MapValue(v, alias.Map);
    }

    private static ParameterValue MapValue(ParameterValue v, Func<double, double> map) => v switch
    {
        ParameterValue.Scalar s => new ParameterValue.Scalar(map(s.Value)),
        ParameterValue.Gradient g => new ParameterValue.Gradient(g.Values.Select(map).ToList()),
        ParameterValue.Filtered f => new ParameterValue.Filtered(f.Entries.Select(e => (e.Filter, MapValue(e.Value, map))).ToList()),
        ParameterValue.Text t when double.TryParse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => new ParameterValue.Scalar(map(d)),
        _ => v,
    };

    private void Validate(MethodParameter decl, ParameterValue value, string? source)
    {
        switch (decl.Kind)
        {
            case ParameterKind.Number:
                if (Words(value).FirstOrDefault() is { } word)
                    throw new RecipeException(source, $"parameter '{decl.Name}' of '{Method.Name}' must be a number in [{decl.Min}, {decl.Max}]; got '{word}'.");
                foreach (double d in Numbers(value))
                {
                    if (double.IsNaN(d) || d < decl.Min || d > decl.Max)
                        throw new RecipeException(source, $"parameter '{decl.Name}' of '{Method.Name}' must lie in [{decl.Min}, {decl.Max}]; got {d.ToString(CultureInfo.InvariantCulture)}.");
                    if (decl.Integral && d != Math.Floor(d))
                        throw new RecipeException(source, $"parameter '{decl.Name}' of '{Method.Name}' must be a whole number in [{decl.Min}, {decl.Max}]; got {d.ToString(CultureInfo.InvariantCulture)}.");
                }
                break;
            case ParameterKind.Choice:
                if (value is not ParameterValue.Text t || !decl.Choices.Contains(t.Value))
                    throw new RecipeException(source, $"parameter '{decl.Name}' of '{Method.Name}' must be one of {string.Join(", ", decl.Choices)}.");
                break;
            case ParameterKind.Flag:
                if (value is not ParameterValue.Text f || !bool.TryParse(f.Value, out _))
                    throw new RecipeException(source, $"parameter '{decl.Name}' of '{Method.Name}' must be true or false.");
                break;
        }
    }

    /// <summary>The words of a value that do not read as numbers ("abc"; "nan" reads as a number and fails the range).</summary>
    private static IEnumerable<string> Words(ParameterValue v) => v switch
    {
        ParameterValue.Text t when !double.TryParse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) => [t.Value],
        ParameterValue.Filtered f => f.Entries.SelectMany(e => Words(e.Value)),
        _ => [],
    };

    private static IEnumerable<double> Numbers(ParameterValue v)
    {
        switch (v)
        {
            case ParameterValue.Scalar s: yield return s.Value; break;
            case ParameterValue.Gradient g: foreach (var d in g.Values) yield return d; break;
            case ParameterValue.Filtered f: foreach (var e in f.Entries) foreach (var d in Numbers(e.Value)) yield return d; break;
            case ParameterValue.Text t:
                if (!double.TryParse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x)) x = double.NaN;
                yield return x;
                break;
        }
    }

    /// <summary>A number for a tensor (global value or default).</summary>
    public double Number(string name, string tensor = "", int layer = -1, int layerCount = 0)
    {
        var decl = Declared(name);
        return _global.TryGetValue(name, out var v) ? v.ResolveNumber(tensor, layer, layerCount) : decl.Default;
    }

    /// <summary>A number for one model and tensor (per-model value, else global, else default).</summary>
    public double Number(string name, int task, string tensor = "", int layer = -1, int layerCount = 0)
    {
        Declared(name);
        if (task < _perModel.Length && _perModel[task].TryGetValue(name, out var v)) return v.ResolveNumber(tensor, layer, layerCount);
        return Number(name, tensor, layer, layerCount);
    }

    /// <summary>A choice's word.</summary>
    public string Choice(string name)
    {
        var decl = Declared(name);
        return _global.TryGetValue(name, out var v) ? v.ResolveText("") : decl.DefaultChoice;
    }

    /// <summary>A flag.</summary>
    public bool Flag(string name)
    {
        var decl = Declared(name);
        return _global.TryGetValue(name, out var v) ? bool.Parse(v.ResolveText("")) : decl.Default != 0;
    }

    /// <summary>Every number <paramref name="name"/> takes for model <paramref name="task"/> (its per-model value, else the
    /// global one, else the default): each entry of a per-layer or filter list.</summary>
    public IEnumerable<double> Numbers(string name, int task)
    {
        var decl = Declared(name);
        return ValueFor(name, task) is { } v ? Numbers(v) : [decl.Default];
    }

    /// <summary>What the recipe gave <paramref name="name"/> for model <paramref name="task"/>: its own value, else the global one, else null.</summary>
    private ParameterValue? ValueFor(string name, int task) =>
        task < _perModel.Length && _perModel[task].TryGetValue(name, out var own) ? own : _global.GetValueOrDefault(name);

    /// <summary>True when <paramref name="name"/> has one value for the whole model (for <paramref name="task"/>): not a per-layer list or filter list.</summary>
    public bool IsUniform(string name, int task)
    {
        Declared(name);
        return ValueFor(name, task) is not { } v || Uniform(v);
    }

    /// <summary>One value everywhere: a number or word, or a filter list whose first entry matches every tensor with one.</summary>
    private static bool Uniform(ParameterValue v) => v switch
    {
        ParameterValue.Scalar or ParameterValue.Text => true,
        ParameterValue.Filtered { Entries: [var first, ..] } => first.Filter is null or "*" && Uniform(first.Value),
        _ => false,
    };

    /// <summary>Refuses a per-layer or filter list for <paramref name="name"/>, which the method reads once for the whole
    /// model (a global statistic, one threshold per model): the list would otherwise be cut to one value without a word.</summary>
    /// <param name="name">The parameter.</param>
    /// <param name="plan">The merge's plan (its models).</param>
    /// <param name="why">Why the method reads one value, for the message.</param>
    /// <exception cref="RecipeException">A model's value varies over layers or tensors.</exception>
    public void RequireUniform(string name, MergePlan plan, string why)
    {
        for (int t = 0; t < plan.TaskCount; t++)
            if (!IsUniform(name, t))
                throw new RecipeException(null, $"'{name}' of {Method.Name} varies over layers or tensors{(plan.TaskCount > 1 ? $" (model '{plan.TaskNames[t]}')" : "")}, but {why}; give one number.");
    }

    /// <summary>
    /// These parameters with <paramref name="name"/> set to <paramref name="value"/> unless the recipe set it: how a method
    /// fills in a default it chooses itself (TIES's λ 0.3 with <c>merge: sum</c>, DARE's and EMR's λ by base method).
    /// </summary>
    public MergeParameters WithDefault(string name, double value)
    {
        if (IsSet(name)) return this;
        var global = new Dictionary<string, ParameterValue>(DeclaredEffective()) { [name] = new ParameterValue.Scalar(value) };
        return new MergeParameters(Method, global, Enumerable.Range(0, ModelCount).Select(PerModel).ToList());
    }

    /// <summary>True when the recipe set <paramref name="name"/> (globally or for any model).</summary>
    public bool IsSet(string name) => _global.ContainsKey(name) || _perModel.Any(p => p.ContainsKey(name));

    /// <summary>Every parameter with its effective global value — the method's dependent defaults included
    /// (<see cref="MergeMethod.WithDependentDefaults"/>) — for the resolved recipe and the model card.</summary>
    public IReadOnlyDictionary<string, ParameterValue> Effective() => Method.WithDependentDefaults(this).DeclaredEffective();

    /// <summary>Every parameter with its given value, else its declared default.</summary>
    private IReadOnlyDictionary<string, ParameterValue> DeclaredEffective()
    {
        var result = new SortedList<string, ParameterValue>(StringComparer.Ordinal);
        foreach (var d in Method.Parameters)
        {
            if (d.Kind == ParameterKind.Number && double.IsNaN(d.Default) && !_global.ContainsKey(d.Name)) continue; // default chosen by the run
            result[d.Name] = _global.TryGetValue(d.Name, out var v) ? v : d.Kind switch
            {
                ParameterKind.Number => new ParameterValue.Scalar(d.Default),
                ParameterKind.Choice => new ParameterValue.Text(d.DefaultChoice),
                _ => new ParameterValue.Text(d.Default != 0 ? "true" : "false"),
            };
        }
        return result;
    }

    /// <summary>Per-model values as given (canonical names), for the resolved recipe.</summary>
    public IReadOnlyDictionary<string, ParameterValue> PerModel(int task) => _perModel[task];

    private MethodParameter Declared(string name) =>
        _declared.TryGetValue(name, out var d) ? d : throw new InvalidOperationException($"method '{Method.Name}' did not declare '{name}'.");
}
