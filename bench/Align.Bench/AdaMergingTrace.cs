using MLNetMerge.Merging;
// Diagnostic: the entropy objective and the test accuracy (labels used only for the print) along an AdaMerging or CART++
// run on the vision zoo, every 50 steps.
using MLNetMerge;
using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Nn;
using MLNetMerge.Encoders;

internal static class AdaMergingTrace
{
    public static int Run(string zoo, string mode, int steps)
    {
        var manifest = ZooManifest.Load(zoo);
        using var family = ModelFamily.Load(Path.Combine(zoo, manifest.Base), manifest.Tasks.Select(t => (t.Name, Path.Combine(zoo, t.Checkpoint))));
        var test = manifest.Tasks.ToDictionary(t => t.Name, t => ZooManifest.LoadSplit(zoo, t, t.Test));
        var merged = MergeExecutor.RunInMemory(family, "task_arithmetic");
        var ws = EncoderWorkspace.Open("trace", merged, new MergeInputs(family, test.ToDictionary(kv => kv.Key, kv => kv.Value.WithoutLabels())));
        float[] theta0; float[][] taus;
        if (mode == "cart") (theta0, taus) = CartPlusPlus.LowRankCenteredVectors(ws, family, 0.12, 0);
        else (theta0, taus) = CoefficientMergeRun.PlainTaskVectors(ws);
        var merge = new DifferentiableMerge(ws.Model.Parameters, theta0, taus, clampToUnitInterval: mode != "cart", mode == "cart" ? 2f : 0.3f);
        var learner = new EntropyCoefficientLearner(ws.Model, merge, mode == "task" ? CoefficientScope.Task : CoefficientScope.Layer, ws.Heads, 1e-3);
        var sampler = new TaskBatches(ws.Data, 16, 0);
        var batches = ws.Data.Select(d => new float[16 * d.FeatureLength]).ToArray();
        var sizes = new int[batches.Length];
        for (int step = 0; step <= steps; step++)
        {
            if (step % 50 == 0)
            {
                learner.Materialize();
                double acc = 0, h = 0;
                for (int t = 0; t < ws.TaskNames.Count; t++)
                {
                    var data = test[ws.TaskNames[t]];
                    var emb = MLNetMerge.Encoders.EncoderSession.Embed(ws.Model, data);
                    var p = ws.Heads[t].Probabilities(emb, data.Count);
                    int k = data.ClassCount, correct = 0;
                    for (int i = 0; i < data.Count; i++)
                    {
                        int arg = 0;
                        for (int j = 0; j < k; j++) { if (p[i * k + j] > p[i * k + arg]) arg = j; if (p[i * k + j] > 0) h -= p[i * k + j] * Math.Log(p[i * k + j]) / data.Count; }
                        if (arg == data.Labels![i]) correct++;
                    }
                    acc += (double)correct / data.Count / ws.TaskNames.Count;
                }
                var c = learner.Coefficients;
                Console.WriteLine($"step {step,4}: test entropy (sum over tasks) {h:F3}, test accuracy {100 * acc:F1} %, coefficients mean {c.Average():F3} min {c.Min():F3} max {c.Max():F3}");
            }
            if (step == steps) break;
            for (int t = 0; t < batches.Length; t++) sizes[t] = sampler.Next(t, batches[t]);
            learner.Step(batches, sizes);
        }
        return 0;
    }
}
