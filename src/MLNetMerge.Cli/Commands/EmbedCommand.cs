using System.CommandLine;
using MLNetMerge.Nn.Inference;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Errors;
using MLNetMerge.Nn.Architectures;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// <c>mlnetmerge embed MODEL [--arch ARCH] [--config config.json] --input X.npy [--mask M.npy] [--head HEAD.safetensors]
/// [--task NAME] [--pixels zoo] [--force] --output Y.npy</c>: runs an encoder over a float32 NPY of images/features (or int64
/// token ids with an optional mask for text) and writes the embeddings, or a head's logits, as float32 NPY (see
/// <see cref="EmbedJob"/>; inputs that do not fit the model are refused, see <see cref="EmbedInputs"/>).
/// </summary>
public static class EmbedCommand
{
    /// <summary>Builds the <c>embed</c> command.</summary>
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Checkpoint (.safetensors, sharded directory, .bin/.pt)." };
        var arch = new Option<string?>("--arch") { Description = "vit | clip_vision | openclip_visual | bert | roberta | mlp (default: config.json's model_type)." };
        var config = new Option<string?>("--config") { Description = "Hugging Face config.json (default: config.json beside the model)." };
        var input = new Option<string>("--input") { Description = "float32 NPY (N, C, H, W) images or (N, F) features; int64 NPY (N, T) token ids for text.", Required = true };
        var mask = new Option<string?>("--mask") { Description = "Text only: attention mask NPY (N, T), 1 = real token, 0 = padding." };
        var head = new Option<string?>("--head") { Description = "Linear head safetensors (weight (K, E), bias (K)), or a merge output's heads.safetensors with --task: write logits instead of embeddings." };
        var task = new Option<string?>("--task") { Description = "Use this task's head from a merge output's heads.safetensors (--head, default: the one beside the model)." };
        var pixels = new Option<string?>("--pixels") { Description = "Vision only: how uint8 pixels become inputs; 'zoo' = the bundled zoos' x = b / 127.5 − 1 (without it uint8 input is refused)." };
        var force = new Option<bool>("--force") { Description = "Replace an existing output file." };
        var output = new Option<string>("--output", "-o") { Description = "Output float32 NPY (N, E) or (N, K).", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "Examples per forward pass.", DefaultValueFactory = _ => 32 };
        var pooling = new Option<string?>("--pooling") { Description = "Text only: pooler | cls | mean (default: the model's own, from its 1_Pooling/config.json, else pooler)." };
        var activation = new Option<string>("--activation") { Description = "OpenCLIP only: quick_gelu (OpenAI weights) or gelu (LAION).", DefaultValueFactory = _ => "quick_gelu" };
        var cmd = new Command("embed", "Run an encoder over an NPY batch and write embeddings (or head logits) as NPY.");
        cmd.Arguments.Add(model);
        foreach (var o in new Option[] { arch, config, input, mask, head, task, output, batch, pooling, activation, pixels, force }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            if (r.GetResult(activation) is { Implicit: false } && r.GetValue(arch) != "openclip_visual")
                throw new MergeException(null, null, "--activation applies to OpenCLIP towers (--arch openclip_visual) only; other models' configs name their activation.");
            var job = new EmbedJob
            {
                ModelPath = r.GetValue(model)!, Architecture = r.GetValue(arch), ConfigPath = r.GetValue(config), InputPath = r.GetValue(input)!,
                MaskPath = r.GetValue(mask), HeadPath = r.GetValue(head), Task = r.GetValue(task), OutputPath = r.GetValue(output)!, BatchSize = r.GetValue(batch),
                Pixels = r.GetValue(pixels), Force = r.GetValue(force),
                Pooling = r.GetValue(pooling) switch
                {
                    null => (TextPooling?)null,
                    "pooler" => TextPooling.Pooler,
                    "cls" => TextPooling.Cls,
                    "mean" => TextPooling.Mean,
                    var p => throw new MergeException(null, null, $"--pooling '{p}' is not pooler, cls or mean."),
                },
                OpenClipActivation = Activation.Parse(r.GetValue(activation)!),
            };
            var (count, width) = job.Run(Interrupts.Token);
            Console.WriteLine($"{count} examples → {job.OutputPath} [{count}, {width}]");
            return 0;
        });
        return cmd;
    }
}
