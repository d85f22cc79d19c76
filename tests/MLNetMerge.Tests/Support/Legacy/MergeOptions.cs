namespace MLNetMerge.Tests;

/// <summary>Settings shared by task-vector methods: per-model weights.</summary>
internal abstract class TaskVectorOptions
{
    /// <summary>Per-model weights by task name; tasks not listed weigh 1. Default: none.</summary>
    public IReadOnlyDictionary<string, double> Weights { get; init; } = new Dictionary<string, double>();
}

/// <summary>Task arithmetic settings.</summary>
internal sealed class TaskArithmeticOptions : TaskVectorOptions
{
    /// <summary>λ. Default 0.3.</summary>
    public double Scale { get; init; } = 0.3;
}

/// <summary>TIES settings.</summary>
internal sealed class TiesOptions : TaskVectorOptions
{
    /// <summary>Fraction of each task vector kept by magnitude. Default 0.2.</summary>
    public double Keep { get; init; } = 0.2;

    /// <summary>λ. Default 1.0 (with <see cref="SumMerge"/>: 0.3 unless set).</summary>
    public double? Scale { get; init; }

    /// <summary>Sum the agreeing values instead of averaging them. Default false (mean).</summary>
    public bool SumMerge { get; init; }

    /// <summary>Trim per tensor instead of over the whole model. Default false (global).</summary>
    public bool PerTensorTrim { get; init; }
}

/// <summary>DARE settings.</summary>
internal sealed class DareOptions : TaskVectorOptions
{
    /// <summary>Drop probability p. Default 0.5.</summary>
    public double Drop { get; init; } = 0.5;

    /// <summary>Divide survivors by 1 − p. Default true.</summary>
    public bool Rescale { get; init; } = true;

    /// <summary>Base method over the dropped vectors: <c>ta</c>, <c>average</c> or <c>ties</c>. Default <c>ta</c>.</summary>
    public string Merge { get; init; } = "ta";

    /// <summary>λ; default 0.3 over ta, 1.0 otherwise.</summary>
    public double? Scale { get; init; }

    /// <summary>With <c>ties</c>, an additional magnitude trim when below 1. Default null (none).</summary>
    public double? Keep { get; init; }
}

/// <summary>EMR settings.</summary>
internal sealed class EmrOptions
{
    /// <summary><c>full</c>, <c>elect</c>, <c>elect_mask</c> or <c>elect_rescale</c>. Default <c>full</c>.</summary>
    public string Mode { get; init; } = "full";

    /// <summary>Unified vector: <c>emr</c>, <c>ta</c> or <c>ties</c>. Default <c>emr</c>.</summary>
    public string Merge { get; init; } = "emr";

    /// <summary>Rescalers from whole-model sums (<c>sum</c>) or per-tensor means (<c>mean</c>). Default <c>sum</c>.</summary>
    public string Rescaler { get; init; } = "sum";
}

/// <summary>CART settings.</summary>
internal sealed class CartOptions
{
    /// <summary>Rank ratio r / min(m, n). Default 0.12.</summary>
    public double RankRatio { get; init; } = 0.12;

    /// <summary>λ. Default 2.0.</summary>
    public double Scale { get; init; } = 2.0;

    /// <summary>One model per task (θavg + λ lowrank(ct)) instead of one merged model. Default false.</summary>
    public bool PerTask { get; init; }
}

/// <summary>Consensus / TALL settings.</summary>
internal sealed class ConsensusOptions
{
    /// <summary>κ. Default 0.4.</summary>
    public double Kappa { get; init; } = 0.4;

    /// <summary>Minimum agreeing task masks. Default 2.</summary>
    public int K { get; init; } = 2;

    /// <summary>λ. Default 0.3.</summary>
    public double Scale { get; init; } = 0.3;

    /// <summary>Per-task TALL models instead of one consensus model. Default false.</summary>
    public bool PerTask { get; init; }
}
