using MLNetMerge.Tensors;
using MLNetMerge.Data;

namespace MLNetMerge.Cli.Zoo;

/// <summary>What a text task classifies.</summary>
internal enum TextTaskKind
{
    /// <summary>A synset's definition → its lexicographer file (supersense), among the classes named.</summary>
    DefinitionSupersense,
    /// <summary>A synset's definition → its part of speech (noun, verb, adjective incl. satellites, adverb).</summary>
    DefinitionPartOfSpeech,
    /// <summary>A synset's first example sentence → its part of speech.</summary>
    ExamplePartOfSpeech,
    /// <summary>A fortune → the file it comes from.</summary>
    FortuneCategory,
}

/// <summary>One task of the text zoo.</summary>
/// <param name="Name">Task name (also the checkpoint's file name).</param>
/// <param name="Kind">What is classified.</param>
/// <param name="ClassNames">Class names: lexicographer file names, part-of-speech names or fortune categories.</param>
/// <param name="Description">One line for the manifest.</param>
internal sealed record TextTaskSpec(string Name, TextTaskKind Kind, string[] ClassNames, string Description);

/// <summary>A task's examples as texts with labels.</summary>
/// <param name="Texts">Texts (N).</param>
/// <param name="Labels">Labels (N).</param>
internal sealed record LabeledTexts(IReadOnlyList<string> Texts, int[] Labels)
{
    /// <summary>N.</summary>
    public int Count => Labels.Length;
}

/// <summary>The five tasks of the text zoo and how their splits are drawn.</summary>
internal static class TextZooTasks
{
    /// <summary>Part-of-speech class names, in label order.</summary>
    public static readonly string[] PartsOfSpeech = ["noun", "verb", "adjective", "adverb"];

    /// <summary>Fortune files the fortune task classifies.</summary>
    public static readonly string[] FortuneCategories = ["computers", "definitions", "politics", "science", "songs-poems", "work"];

    /// <summary>The task list, in manifest order.</summary>
    public static IReadOnlyList<TextTaskSpec> All { get; } =
    [
        new("noun_supersense", TextTaskKind.DefinitionSupersense,
            ["noun.artifact", "noun.person", "noun.plant", "noun.animal", "noun.act", "noun.communication", "noun.state", "noun.location"],
            "WordNet noun definition → supersense (the 8 largest noun lexicographer files)"),
        new("verb_supersense", TextTaskKind.DefinitionSupersense,
            ["verb.contact", "verb.communication", "verb.motion", "verb.possession"],
            "WordNet verb definition → supersense (4 large verb lexicographer files: contact, communication, motion, possession)"),
        new("definition_pos", TextTaskKind.DefinitionPartOfSpeech, PartsOfSpeech, "WordNet definition → part of speech of the word defined"),
        new("example_pos", TextTaskKind.ExamplePartOfSpeech, PartsOfSpeech, "WordNet example sentence → part of speech of the word it illustrates"),
        new("fortune_topic", TextTaskKind.FortuneCategory, FortuneCategories, "fortune cookie → the fortune file it comes from (6 files)"),
    ];

    /// <summary>Examples drawn per task, balanced over its classes (each count divided evenly by the class count).</summary>
    /// <param name="Train">Training examples.</param>
    /// <param name="Validation">Validation examples.</param>
    /// <param name="Test">Test examples.</param>
    internal sealed record SplitSizes(int Train = 1600, int Validation = 160, int Test = 320);

    /// <summary>Part-of-speech label of a synset type: n → 0, v → 1, a/s → 2, r → 3.</summary>
    public static int PartOfSpeechLabel(char pos) => pos switch
    {
        'n' => 0, 'v' => 1, 'a' or 's' => 2, 'r' => 3,
        _ => throw new ArgumentOutOfRangeException(nameof(pos), $"'{pos}' is not a WordNet synset type."),
    };

    /// <summary>Every candidate (text, label) of a task in one pool, in source order.</summary>
    public static LabeledTexts Candidates(TextZooSources src, TextTaskSpec spec, TextPool pool)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(spec);
        var texts = new List<string>(); var labels = new List<int>();
        if (spec.Kind == TextTaskKind.FortuneCategory)
        {
            for (int i = 0; i < src.Fortunes.Count; i++)
            {
                int y = Array.IndexOf(spec.ClassNames, src.Fortunes[i].Category);
                if (y >= 0 && src.FortunePools[i] == pool) { texts.Add(src.Fortunes[i].Text); labels.Add(y); }
            }
            return new LabeledTexts(texts, labels.ToArray());
        }
        for (int i = 0; i < src.Synsets.Count; i++)
        {
            if (src.SynsetPools[i] != pool) continue;
            var s = src.Synsets[i];
            switch (spec.Kind)
            {
                case TextTaskKind.DefinitionSupersense:
                    int y = Array.IndexOf(spec.ClassNames, s.LexFileName);
                    if (y >= 0 && s.Definition.Length > 0) { texts.Add(s.Definition); labels.Add(y); }
                    break;
                case TextTaskKind.DefinitionPartOfSpeech:
                    if (s.Definition.Length > 0) { texts.Add(s.Definition); labels.Add(PartOfSpeechLabel(s.Pos)); }
                    break;
                case TextTaskKind.ExamplePartOfSpeech:
                    if (s.Examples.Count > 0) { texts.Add(s.Examples[0]); labels.Add(PartOfSpeechLabel(s.Pos)); }
                    break;
            }
        }
        return new LabeledTexts(texts, labels.ToArray());
    }

    /// <summary>Draws a task's train, validation and test examples: balanced over classes, seeded, each from its own pool.</summary>
    /// <exception cref="InvalidOperationException">A class has fewer candidates than the split needs.</exception>
    public static (LabeledTexts Train, LabeledTexts Validation, LabeledTexts Test) Build(TextZooSources src, TextTaskSpec spec, SplitSizes sizes, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        return DrawSplits(spec.Name, spec.ClassNames, pool => Candidates(src, spec, pool), (sizes.Train, sizes.Validation, sizes.Test), seed);
    }

    /// <summary>
    /// A task's train, validation and test examples from its candidates in each pool: total / k per class, drawn by
    /// <see cref="DatasetSplits.BalancedSubset"/> with the stream <c>zoo.draw.{pool}</c> of the task (the text and MiniLM
    /// zoos draw the same way).
    /// </summary>
    /// <exception cref="InvalidOperationException">A class has fewer candidates than the split needs.</exception>
    internal static (LabeledTexts Train, LabeledTexts Validation, LabeledTexts Test) DrawSplits(string task, string[] classNames,
        Func<TextPool, LabeledTexts> candidates, (int Train, int Validation, int Test) sizes, ulong seed)
    {
        int k = classNames.Length;
        LabeledTexts Draw(TextPool pool, int total)
        {
            var all = candidates(pool);
            int per = total / k;
            var counts = new int[k];
            foreach (int y in all.Labels) counts[y]++;
            for (int c = 0; c < k; c++)
                if (counts[c] < per) throw new InvalidOperationException($"task {task}: class {classNames[c]} has {counts[c]} {pool} candidates; {per} needed.");
            var idx = DatasetSplits.BalancedSubset(all.Labels, k, per, RandomStreams.Key(seed, "zoo.draw." + pool.ToString().ToLowerInvariant(), 0, task));
            return new LabeledTexts(idx.Select(i => all.Texts[i]).ToList(), idx.Select(i => all.Labels[i]).ToArray());
        }
        return (Draw(TextPool.Train, sizes.Train), Draw(TextPool.Validation, sizes.Validation), Draw(TextPool.Test, sizes.Test));
    }
}
