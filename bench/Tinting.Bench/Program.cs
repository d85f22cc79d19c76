// MLNetMerge side of bench/tinting (see bench/tinting/run.sh): the Tinting step on the weights torch_tinting.py wrote.
// One step = θ = θ0 + Σt clamp(λt) τt over 8 tasks, forward + backward of the zoo-shaped ViT on a batch of 16, coefficient
// gradients ⟨∂L/∂θ^l, τt^l⟩ and head gradients, Adam (lr 1e-2) on λ and on task 0's head. Prints one line for run.sh.
using System.Diagnostics;
using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints;
using MLNetMerge.Evaluation;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Encoders;

if (args.Length < 1) { Console.Error.WriteLine("usage: Tinting.Bench OUTDIR"); return 2; }
string dir = args[0];
const int tasks = 8;
var cfg = new VisionTransformerConfig
{
    ImageSize = 28, PatchSize = 7, NumChannels = 1, HiddenSize = 64, NumLayers = 4, NumHeads = 4, IntermediateSize = 128,
    Activation = ActivationKind.GeluErf, LayerNormEps = 1e-12, QkvBias = true,
};
using var baseReader = SafetensorsReader.Open(Path.Combine(dir, "base.safetensors"));
var model = VisionTransformer.Load(cfg, baseReader);
var layout = model.Parameters.Layout;
var theta0 = (float[])model.Parameters.Values.Clone();
using var taskReader = SafetensorsReader.Open(Path.Combine(dir, "tasks.safetensors"));
float[] Read(ICheckpointReader r, string name)
{
    if (!r.TryGetTensor(name, out var info)) throw new InvalidDataException($"{r.Path} lacks {name}");
    var v = new float[info.ElementCount]; r.ReadFloat32(info, v); return v;
}
var taus = new float[tasks][];
var heads = new TaskHead[tasks];
for (int t = 0; t < tasks; t++)
{
    taus[t] = new float[layout.TotalLength];
    foreach (var e in layout.Entries) Read(taskReader, $"task{t}.{e.Name}").CopyTo(taus[t], e.Offset);
    var b = Read(taskReader, $"head{t}.bias");
    heads[t] = new TaskHead(Read(taskReader, $"head{t}.weight"), b, b.Length, cfg.HiddenSize);
}
using var batchReader = SafetensorsReader.Open(Path.Combine(dir, "batch.safetensors"));
var images = Read(batchReader, "images");
var individual = Read(batchReader, "individual_logits");
int batch = images.Length / model.InputSize;
var trainer = new TintingTrainer(model, theta0, taus, heads, new TintingTrainerSettings { LearningRate = 1e-2 });
var losses = new float[10];
for (int i = 0; i < 10; i++) losses[i] = trainer.Step(0, images, batch, individual).Loss;
for (int i = 0; i < 20; i++) trainer.Step(0, images, batch, individual); // JIT tiering and buffer warm-up
const int steps = 30;
long alloc = GC.GetAllocatedBytesForCurrentThread();
var sw = Stopwatch.StartNew();
for (int i = 0; i < steps; i++) trainer.Step(0, images, batch, individual);
double s = sw.Elapsed.TotalSeconds / steps;
alloc = GC.GetAllocatedBytesForCurrentThread() - alloc;
Console.WriteLine($"ours first_loss {losses[0]:F6} loss10 {losses[9]:F6} step_ms {s * 1e3:F3} alloc_bytes_per_step {alloc / steps}");
return 0;
