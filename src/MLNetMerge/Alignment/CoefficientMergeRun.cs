using MLNetMerge.Merging;
using MLNetMerge.Nn;

namespace MLNetMerge.Alignment;

/// <summary>Settings of an entropy-driven coefficient search (AdaMerging, AdaMerging++, CART++).</summary>
/// <param name="Granularity">Task-wise or layer-wise coefficients.</param>
/// <param name="Steps">Adam steps (each sees one batch of every task).</param>
/// <param name="BatchSize">Examples per task per step.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="InitialCoefficient">Starting value of every coefficient.</param>
/// <param name="Clamp">Clamp coefficients to [0, 1] in the forward pass.</param>
/// <param name="Seed">Seed of the batch order.</param>
internal sealed record CoefficientSearch(CoefficientScope Granularity, int Steps, int BatchSize, double LearningRate,
    float InitialCoefficient, bool Clamp, ulong Seed);

/// <summary>
/// Runs <see cref="EntropyCoefficientLearner"/> over given base and task vectors (plain, TIES-trimmed or CART's
/// low-rank centered ones) and packs the result as a <see cref="MergedEncoderModel"/>. Progress reports carry the step's
/// loss as their loss and a running mean (an exponential moving average, weight 0.05 per step) in their stage text.
/// </summary>
internal static class CoefficientMergeRun
{
    /// <summary>Fits the coefficients and returns the merged encoder with the tasks' heads.</summary>
    /// <param name="method">Recipe name of the stage.</param>
    /// <param name="parameters">The stage's recipe parameters.</param>
    /// <param name="merged">The merged model the stage was fitted on.</param>
    /// <param name="workspace">Encoder, heads and data.</param>
    /// <param name="baseValues">θ0 or θavg (P).</param>
    /// <param name="vectors">Task vectors (T × P), in the workspace's task order.</param>
    /// <param name="search">Settings.</param>
    /// <param name="progress">Progress with the running loss.</param>
    /// <param name="cancellationToken">Checked every step.</param>
    public static MergedEncoderModel Fit(string method, IReadOnlyDictionary<string, ParameterValue> parameters, MergedModel merged,
        EncoderWorkspace workspace, float[] baseValues, float[][] vectors, CoefficientSearch search,
        IProgress<MergeProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(search);
        var model = workspace.Model;
        var merge = new DifferentiableMerge(model.Parameters, baseValues, vectors, search.Clamp, search.InitialCoefficient);
        var learner = new EntropyCoefficientLearner(model, merge, search.Granularity, workspace.Heads, search.LearningRate);
        var sampler = new TaskBatches(workspace.Data, search.BatchSize, search.Seed);
        int tasks = workspace.TaskNames.Count;
        var batches = new float[tasks][];
        var sizes = new int[tasks];
        for (int t = 0; t < tasks; t++) batches[t] = new float[search.BatchSize * workspace.Data[t].FeatureLength]; // (B, F)
        double running = double.NaN;
        for (int step = 0; step < search.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int t = 0; t < tasks; t++) sizes[t] = sampler.Next(t, batches[t]);
            double loss = learner.Step(batches, sizes);
            running = double.IsNaN(running) ? loss : 0.95 * running + 0.05 * loss;
            if (progress is not null && (step % 10 == 9 || step == search.Steps - 1))
                progress.Report(new MergeProgress($"{method}: entropy (running mean {running:F4})", step + 1, search.Steps, loss));
        }
        learner.Materialize();
        var weights = (float[])model.Parameters.Values.Clone();
        int[] shape = search.Granularity == CoefficientScope.Task ? [tasks] : [tasks, merge.TensorCount];
        var coefficients = new AlignedTensor("coefficients", shape, (float[])learner.Coefficients.Clone());
        return new MergedEncoderModel(merged, method, parameters, model, workspace.Session.Prefix, weights,
            workspace.TaskNames, workspace.Heads, coefficients);
    }

    /// <summary>A number in recipe form.</summary>
    public static ParameterValue N(double value) => new ParameterValue.Scalar(value);

    /// <summary>A word in recipe form.</summary>
    public static ParameterValue T(string value) => new ParameterValue.Text(value);

    /// <summary>Task vectors <c>τt = θt − θ0</c> of every task (T × P) and θ0 (P), in the workspace's order.</summary>
    public static (float[] Base, float[][] Vectors) PlainTaskVectors(EncoderWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        var theta0 = workspace.Flatten(workspace.Family.Base);
        var vectors = new float[workspace.TaskNames.Count][];
        for (int t = 0; t < vectors.Length; t++)
        {
            vectors[t] = workspace.Flatten(workspace.Family.Reader(workspace.TaskNames[t]));
            System.Numerics.Tensors.TensorPrimitives.Subtract(vectors[t], theta0, vectors[t]);
        }
        return (theta0, vectors);
    }
}
