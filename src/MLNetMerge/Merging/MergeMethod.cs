using MLNetMerge.Checkpoints;
using MLNetMerge.Encoders;

namespace MLNetMerge.Merging;

/// <summary>
/// A data-free merge method: its name, paper, declared parameters and how many models it accepts. The work is done by
/// the <see cref="MergeRun"/> it begins for one family and parameter set: an optional sequence of statistics passes
/// over the whole model (for global thresholds, majority signs, rescalers) and a per-tensor merge function.
/// </summary>
internal abstract class MergeMethod
{
    /// <summary>Recipe name, e.g. <c>ties</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The paper (authors, year, title, arXiv id).</summary>
    public abstract string Reference { get; }

    /// <summary>One sentence on what it computes.</summary>
    public abstract string Summary { get; }

    /// <summary>The parameters it takes, with defaults.</summary>
    public abstract IReadOnlyList<MethodParameter> Parameters { get; }

    /// <summary>The declared parameter a recipe key names — by its name or one of its aliases (with that alias) — or null.</summary>
    public (MethodParameter Declaration, ParameterAlias? Alias)? FindParameter(string key)
    {
        foreach (var d in Parameters)
        {
            if (d.Name == key) return (d, null);
            foreach (var a in d.Aliases)
                if (a.Name == key) return (d, a);
        }
        return null;
    }

    /// <summary>Fewest fine-tuned models it accepts.</summary>
    public virtual int MinModels => 1;

    /// <summary>Most fine-tuned models it accepts.</summary>
    public virtual int MaxModels => int.MaxValue;

    /// <summary>The data the method consumes besides the checkpoints; every method here is data-free (<see cref="DataRequirement.None"/>). Reports mark transductive methods from this.</summary>
    public virtual DataRequirement Consumes => DataRequirement.None;

    /// <summary>True when the result is per task (unified weights + modulators), like EMR, TALL masks, CART indexing.</summary>
    public virtual bool IsPerTask => false;

    /// <summary>Starts a run over <paramref name="plan"/> with <paramref name="parameters"/>.</summary>
    public abstract MergeRun Begin(MergePlan plan, MergeParameters parameters);

    /// <summary>Warnings for settings that make the merge trivial on this family (a consensus needing more masks than there
    /// are models, a drop of every element): legal, and said rather than passed over. Keyed for the merge's notes
    /// (<see cref="MergeSummary.WarningPrefix"/>). Default: none.</summary>
    public virtual IEnumerable<(string Key, string Message)> DegenerateSettings(MergeParameters parameters, MergePlan plan) => [];

    /// <summary><paramref name="parameters"/> with the defaults that depend on another setting filled in (TIES's λ 0.3
    /// with <c>merge: sum</c>, …), so that the effective parameters a run saves are those it used and a saved recipe
    /// reproduces it. Default: none.</summary>
    public virtual MergeParameters WithDependentDefaults(MergeParameters parameters) => parameters;

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>What a run merges: the family's merged tensors with their layer indices, task names and the seed.</summary>
/// <param name="Tensors">Merged tensors, in output order.</param>
/// <param name="TaskNames">Task names in order.</param>
/// <param name="LayerCount">Blocks in the model (max layer index + 1; 0 when names carry none).</param>
/// <param name="Seed">Seed for randomised methods (DARE, DELLA).</param>
internal sealed record MergePlan(IReadOnlyList<TensorInfo> Tensors, IReadOnlyList<string> TaskNames, int LayerCount, ulong Seed)
{
    /// <summary>Tasks (indices) whose full weights the run writes besides the merge (per-task methods).</summary>
    public IReadOnlyList<int> Materialized { get; init; } = [];

    /// <summary>Whether NaN and infinity are accepted in the inputs (<c>allow_nonfinite</c>).</summary>
    public bool AllowNonFinite { get; init; }

    /// <summary>Whether the sink rewrites merged tensors after they are written (<see cref="IMergeSink.RewritesModel"/>), so
    /// a run may leave elements to <see cref="MergeRun.LateElements"/>.</summary>
    public bool RewritableOutput { get; init; }

    /// <summary>Number of tasks T.</summary>
    public int TaskCount => TaskNames.Count;

    /// <summary>Builds the plan of a family.</summary>
    public static MergePlan Of(ModelFamily family, ulong seed)
    {
        int layers = family.MergedTensors.Select(t => LayerIndex.Of(t.Name)).DefaultIfEmpty(-1).Max() + 1;
        return new MergePlan(family.MergedTensors, family.TaskNames, layers, seed);
    }
}
