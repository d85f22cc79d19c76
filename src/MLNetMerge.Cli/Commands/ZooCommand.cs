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
        var seed = new Option<int>("--seed") { Description = "Seed of splits, initialisation and shuffles.", DefaultValueFactory = _ => 0 };
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
            VisionZooBuilder.Build(r.GetValue(output)!, options, Console.WriteLine);
            return 0;
        });
        build.Subcommands.Add(vision);
        build.Subcommands.Add(Text());
        build.Subcommands.Add(MiniLmZooCommand.Create());
        zoo.Subcommands.Add(build);
        return zoo;
        }

    private static Command Text()
    {
        var defaults = new TextZooBuildOptions();
        var text = new Command("text", "Build a WordPiece vocabulary, pretrain a small BERT by masked-language modelling (no labels) and fine-tune one copy per text task (WordNet supersenses and parts of speech, fortune files); writes vocab.txt, checkpoints, token-id validation/test subsets and manifest.json.");
        var output = new Option<string>("--output", "-o") { Description = "Zoo folder.", DefaultValueFactory = _ => Path.Combine("data", "zoo", "text") };
        var seed = new Option<int>("--seed") { Description = "Seed of pools, splits, initialisation, masks and shuffles.", DefaultValueFactory = _ => 0 };
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
            TextZooBuilder.Build(r.GetValue(output)!, options, Console.WriteLine);
            return 0;
        });
        return text;
    }
}
