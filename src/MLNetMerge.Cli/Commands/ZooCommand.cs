using System.CommandLine;
using MLNetMerge.Cli.Zoo;

namespace MLNetMerge.Cli.Commands;

/// <summary><c>mlnetmerge zoo build vision|text</c>: builds the small vision model zoo (Fashion-MNIST, scikit-learn digits)
/// or the small text model zoo (WordNet, fortune files).</summary>
internal static class ZooCommand
{
    public static Command Create()
    {
        var zoo = new Command("zoo", "Build the small model zoos the demo and the tests run on.");
        var build = new Command("build", "Build a zoo.");
        var vision = new Command("vision", "Pretrain a small ViT (rotation prediction, no labels) and fine-tune one copy per image task; writes checkpoints, validation/test subsets and manifest.json.");
        var output = new Option<string>("--output", "-o") { Description = "Zoo folder.", DefaultValueFactory = _ => Path.Combine("data", "zoo", "vision") };
        var seed = new Option<ulong>("--seed") { Description = "Seed of splits, initialisation and shuffles.", DefaultValueFactory = _ => 0 };
        var fashion = new Option<string>("--fashion-dir") { Description = "Folder of Fashion-MNIST's gzipped IDX files (apt-get install dataset-fashion-mnist).", DefaultValueFactory = _ => VisionZooSources.DefaultFashionDirectory };
        var sklearn = new Option<string>("--sklearn-dir") { Description = "Folder of scikit-learn's bundled CSV data (apt-get install python3-sklearn).", DefaultValueFactory = _ => VisionZooSources.DefaultSklearnDirectory };
        var pretrainEpochs = new Option<int>("--pretrain-epochs") { Description = "Pretraining epochs.", DefaultValueFactory = _ => new VisionZooBuildOptions().PretrainEpochs };
        var fineTuneEpochs = new Option<int>("--finetune-epochs") { Description = "Fine-tuning epochs per task.", DefaultValueFactory = _ => new VisionZooBuildOptions().FineTuneEpochs };
        var fineTuneLr = new Option<double>("--finetune-lr") { Description = "Fine-tuning learning rate.", DefaultValueFactory = _ => new VisionZooBuildOptions().FineTuneLearningRate };
        foreach (var o in new Option[] { output, seed, fashion, sklearn, pretrainEpochs, fineTuneEpochs, fineTuneLr }) vision.Options.Add(o);
        vision.SetAction(r =>
        {
            var options = new VisionZooBuildOptions
            {
                Seed = r.GetValue(seed), FashionDirectory = r.GetValue(fashion)!, SklearnDirectory = r.GetValue(sklearn)!,
                PretrainEpochs = r.GetValue(pretrainEpochs), FineTuneEpochs = r.GetValue(fineTuneEpochs), FineTuneLearningRate = r.GetValue(fineTuneLr),
            };
            CheckZooFolder(r.GetValue(output)!);
            VisionZooBuilder.Build(r.GetValue(output)!, options, Console.WriteLine, cancellationToken: Interrupts.Token);
            return 0;
        });
        build.Subcommands.Add(vision);
        build.Subcommands.Add(Text());
        build.Subcommands.Add(MiniLmZooCommand.Create());
        zoo.Subcommands.Add(build);
        zoo.Subcommands.Add(Checksums());
        return zoo;
    }

    /// <summary>A zoo build writes into its folder file by file: refuse a folder that holds something other than a zoo.</summary>
    /// <exception cref="UnsafeOverwriteException">The folder is not empty and has no zoo manifest.json.</exception>
    private static void CheckZooFolder(string folder)
    {
        string full = Path.GetFullPath(folder);
        if (File.Exists(full)) throw new UnsafeOverwriteException(full, "is a file; a zoo is built into a folder.");
        if (!Directory.Exists(full) || !Directory.EnumerateFileSystemEntries(full).Any()) return;
        try { _ = MLNetMerge.Data.ZooManifest.Load(full); }
        catch (MergeException)
        {
            throw new UnsafeOverwriteException(full, $"is not a zoo (no readable manifest.json; it holds {MLNetMerge.Checkpoints.OutputGuard.Describe(full)}); a zoo build replaces files in a zoo folder only: choose another --output.");
        }
    }

    /// <summary><c>mlnetmerge zoo checksums DIR [--write]</c>: checks a zoo's files against its checksums.json, or writes one
    /// from the files as they are (recording no build).</summary>
    private static Command Checksums()
    {
        var dir = new Argument<string>("zoo") { Description = "Zoo folder (data/zoo/vision, data/zoo/text)." };
        var write = new Option<bool>("--write") { Description = "Write checksums.json from the files as they are (records no build: a rebuild cannot be compared against it)." };
        var cmd = new Command("checksums", "Check a zoo's files against its checksums.json (written by zoo build), or write one.");
        cmd.Arguments.Add(dir);
        cmd.Options.Add(write);
        cmd.SetAction(r =>
        {
            string folder = r.GetValue(dir)!;
            if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such zoo folder.");
            if (r.GetValue(write))
            {
                var written = ZooChecksums.Write(folder, null);
                Console.WriteLine($"{Path.Combine(folder, ZooChecksums.FileName)}: {written.Files.Count} files");
                return 0;
            }
            var sums = ZooChecksums.Read(folder);
            var differences = sums.Differences(folder);
            if (differences.Count > 0)
                throw new MergeException(folder, null, $"{differences.Count} file(s) differ from {ZooChecksums.FileName}: {string.Join("; ", differences.Take(3))}{(differences.Count > 3 ? "; …" : "")}");
            Console.WriteLine($"{folder}: {sums.Files.Count} files match {ZooChecksums.FileName} (built with: {sums.BuiltWith?.InstructionSet ?? "not recorded"})");
            return 0;
        });
        return cmd;
    }

    private static Command Text()
    {
        var defaults = new TextZooBuildOptions();
        var text = new Command("text", "Build a WordPiece vocabulary, pretrain a small BERT by masked-language modelling (no labels) and fine-tune one copy per text task (WordNet supersenses and parts of speech, fortune files); writes vocab.txt, checkpoints, token-id validation/test subsets and manifest.json.");
        var output = new Option<string>("--output", "-o") { Description = "Zoo folder.", DefaultValueFactory = _ => Path.Combine("data", "zoo", "text") };
        var seed = new Option<ulong>("--seed") { Description = "Seed of pools, splits, initialisation, masks and shuffles.", DefaultValueFactory = _ => 0 };
        var wordnet = new Option<string>("--wordnet-dir") { Description = "WordNet database folder (apt-get install wordnet-base).", DefaultValueFactory = _ => defaults.WordNetDirectory };
        var fortunes = new Option<string>("--fortune-dir") { Description = "Fortune files folder (apt-get install fortunes).", DefaultValueFactory = _ => defaults.FortuneDirectory };
        var pretrainExamples = new Option<int>("--pretrain-examples") { Description = "Train-pool texts used for pretraining.", DefaultValueFactory = _ => defaults.PretrainExamples };
        var pretrainEpochs = new Option<int>("--pretrain-epochs") { Description = "Pretraining epochs.", DefaultValueFactory = _ => defaults.PretrainEpochs };
        var fineTuneEpochs = new Option<int>("--finetune-epochs") { Description = "Fine-tuning epochs per task.", DefaultValueFactory = _ => defaults.FineTuneEpochs };
        var fineTuneLr = new Option<double>("--finetune-lr") { Description = "Fine-tuning learning rate.", DefaultValueFactory = _ => defaults.FineTuneLearningRate };
        var vocabSize = new Option<int>("--vocab-size") { Description = "Target WordPiece vocabulary size.", DefaultValueFactory = _ => defaults.VocabularySize };
        foreach (var o in new Option[] { output, seed, wordnet, fortunes, pretrainExamples, pretrainEpochs, fineTuneEpochs, fineTuneLr, vocabSize }) text.Options.Add(o);
        text.SetAction(r =>
        {
            var options = defaults with
            {
                Seed = r.GetValue(seed), WordNetDirectory = r.GetValue(wordnet)!, FortuneDirectory = r.GetValue(fortunes)!,
                PretrainExamples = r.GetValue(pretrainExamples), PretrainEpochs = r.GetValue(pretrainEpochs),
                FineTuneEpochs = r.GetValue(fineTuneEpochs), FineTuneLearningRate = r.GetValue(fineTuneLr), VocabularySize = r.GetValue(vocabSize),
            };
            CheckZooFolder(r.GetValue(output)!);
            TextZooBuilder.Build(r.GetValue(output)!, options, Console.WriteLine);
            return 0;
        });
        return text;
    }
}
