using MLNetMerge.Merging;
// Our side of bench/align (see bench/align/README.md): one layer-wise AdaMerging step on the committed vision zoo —
// θ = θ0 + Σt clamp(λt^l) τt^l, for each of the 8 tasks a forward and backward pass of its batch through the encoder and
// its own head with the entropy loss, the coefficient gradients ⟨∂L/∂θ^l, τt^l⟩, one Adam step (lr 1e-3) — on the same
// weights and batches as torch_align.py. Prints the first loss and the loss of the last step (both sides run 1 + 5 + STEPS
// steps on the same batches, so both must agree) and the time per step.
using System.Diagnostics;
using MLNetMerge;
using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Nn;
using MLNetMerge.Encoders;

if (args.Length < 1) { Console.Error.WriteLine("usage: Align.Bench ZOO_DIR [BATCH] [STEPS] | trace ZOO_DIR task|layer|cart STEPS"); return 2; }
if (args[0] == "trace") return AdaMergingTrace.Run(args[1], args[2], int.Parse(args[3]));
string zoo = args[0];
int batch = args.Length > 1 ? int.Parse(args[1]) : 16, steps = args.Length > 2 ? int.Parse(args[2]) : 20;
var manifest = ZooManifest.Load(zoo);
using var family = ModelFamily.Load(Path.Combine(zoo, manifest.Base), manifest.Tasks.Select(t => (t.Name, Path.Combine(zoo, t.Checkpoint))));
var data = manifest.Tasks.ToDictionary(t => t.Name, t => ZooManifest.LoadSplit(zoo, t, t.Test).Subset(Enumerable.Range(0, batch).ToArray()).WithoutLabels());
var merged = MergeExecutor.RunInMemory(family, "task_arithmetic");
var ws = EncoderWorkspace.Open("bench", merged, new MergeInputs(family, data));
var (theta0, taus) = CoefficientMergeRun.PlainTaskVectors(ws);
var merge = new DifferentiableMerge(ws.Model.Parameters, theta0, taus, clampToUnitInterval: true, 0.3f);
var learner = new EntropyCoefficientLearner(ws.Model, merge, CoefficientScope.Layer, ws.Heads, 1e-3);
var batches = ws.Data.Select(d => d.Features).ToArray();
var sizes = batches.Select(_ => batch).ToArray();
double first = learner.Step(batches, sizes);
for (int i = 0; i < 5; i++) learner.Step(batches, sizes); // JIT tiering and buffer warm-up
long alloc = GC.GetAllocatedBytesForCurrentThread();
var times = new List<double>();
double last = first;
for (int i = 0; i < steps; i++)
{
    var sw = Stopwatch.StartNew();
    last = learner.Step(batches, sizes);
    times.Add(sw.Elapsed.TotalMilliseconds);
}
alloc = GC.GetAllocatedBytesForCurrentThread() - alloc;
times.Sort();
Console.WriteLine($"ours first_loss {first:F6} last_loss {last:F6} steps {6 + steps} tasks {batches.Length} batch {batch} coefficients {learner.Coefficients.Length} " +
    $"step_ms_median {times[times.Count / 2]:F2} step_ms_min {times[0]:F2} alloc_bytes_per_step {alloc / steps}");
return 0;
