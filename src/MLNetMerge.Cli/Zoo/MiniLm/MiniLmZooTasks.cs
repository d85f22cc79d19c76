using MLNetMerge.Tensors;
using MLNetMerge.Data;

namespace MLNetMerge.Cli.Zoo.MiniLm;

/// <summary>What a MiniLM zoo task classifies.</summary>
internal enum MiniLmTaskKind
{
    /// <summary>A synset's definition → its lexicographer file (supersense), among the classes named.</summary>
    DefinitionSupersense,
    /// <summary>A synset's definition → its part of speech (noun, verb, adjective incl. satellites, adverb).</summary>
    DefinitionPartOfSpeech,
    /// <summary>A synset's first example sentence → its part of speech.</summary>
    ExamplePartOfSpeech,
    /// <summary>A fortune → the file it comes from.</summary>
    FortuneCategory,
    /// <summary>A Debian package's short description → its archive section.</summary>
    DebianSection,
}

/// <summary>One task of the MiniLM zoo.</summary>
/// <param name="Name">Task name (also the checkpoint's file name).</param>
/// <param name="Kind">What is classified.</param>
/// <param name="ClassNames">Class names, in label order.</param>
/// <param name="Description">One line for the manifest.</param>
internal sealed record MiniLmTaskSpec(string Name, MiniLmTaskKind Kind, string[] ClassNames, string Description);

/// <summary>The six tasks of the MiniLM zoo and how their balanced splits are drawn, each from its own pool.</summary>
internal static class MiniLmZooTasks
{
    /// <summary>Part-of-speech class names, in label order.</summary>
    public static readonly string[] PartsOfSpeech = ["noun", "verb", "adjective", "adverb"];

    /// <summary>Debian sections the package task classifies.</summary>
    public static readonly string[] DebianSections = ["admin", "games", "graphics", "net", "science", "sound", "text", "utils"];

    /// <summary>The task list, in manifest order.</summary>
    public static IReadOnlyList<MiniLmTaskSpec> All { get; } =
    [
        new("noun_supersense", MiniLmTaskKind.DefinitionSupersense,
            ["noun.artifact", "noun.person", "noun.plant", "noun.animal", "noun.act", "noun.communication", "noun.state", "noun.location"],
            "WordNet noun definition → supersense (8 large noun lexicographer files)"),
        new("verb_supersense", MiniLmTaskKind.DefinitionSupersense,
            ["verb.change", "verb.contact", "verb.communication", "verb.motion", "verb.social", "verb.possession", "verb.cognition", "verb.creation"],
            "WordNet verb definition → supersense (8 large verb lexicographer files)"),
        new("definition_pos", MiniLmTaskKind.DefinitionPartOfSpeech, PartsOfSpeech, "WordNet definition → part of speech of the word defined"),
        new("example_pos", MiniLmTaskKind.ExamplePartOfSpeech, PartsOfSpeech, "WordNet example sentence → part of speech of the word it illustrates"),
        new("fortune_topic", MiniLmTaskKind.FortuneCategory, MiniLmZooSources.FortuneCategories, "fortune cookie → the fortune file it comes from (6 files)"),
        new("debian_section", MiniLmTaskKind.DebianSection, DebianSections, "Debian 12 package short description → archive section (8 sections)"),
    ];

    /// <summary>Examples drawn per task, balanced over its classes (each count divided evenly by the class count).</summary>
    /// <param name="Train">Training examples.</param>
    /// <param name="Validation">Validation examples.</param>
    /// <param name="Test">Test examples.</param>
    public sealed record SplitSizes(int Train = 1200, int Validation = 240, int Test = 480);

    /// <summary>Every candidate (text, label) of a task in one pool, in source order.</summary>
    public static LabeledTexts Candidates(MiniLmZooSources src, MiniLmTaskSpec spec, TextPool pool)
    {
        var texts = new List<string>(); var labels = new List<int>();
        void Add(string text, int label) { if (label >= 0 && text.Length > 0) { texts.Add(text); labels.Add(label); } }
        switch (spec.Kind)
        {
            case MiniLmTaskKind.FortuneCategory:
                for (int i = 0; i < src.Fortunes.Count; i++)
                    if (src.FortunePools[i] == pool) Add(src.Fortunes[i].Text, Array.IndexOf(spec.ClassNames, src.Fortunes[i].Category));
                break;
            case MiniLmTaskKind.DebianSection:
                for (int i = 0; i < src.Debian.Count; i++)
                    if (src.DebianPools[i] == pool) Add(src.Debian[i].Description, Array.IndexOf(spec.ClassNames, src.Debian[i].Section));
                break;
            default:
                for (int i = 0; i < src.Synsets.Count; i++)
                {
                    if (src.SynsetPools[i] != pool) continue;
                    var s = src.Synsets[i];
                    if (spec.Kind == MiniLmTaskKind.DefinitionSupersense) Add(s.Definition, Array.IndexOf(spec.ClassNames, s.LexFileName));
                    else if (spec.Kind == MiniLmTaskKind.DefinitionPartOfSpeech) Add(s.Definition, TextZooTasks.PartOfSpeechLabel(s.Pos));
                    else if (s.Examples.Count > 0) Add(s.Examples[0], TextZooTasks.PartOfSpeechLabel(s.Pos));
                }
                break;
        }
        return new LabeledTexts(texts, labels.ToArray());
    }

    /// <summary>Draws a task's train, validation and test examples: balanced over classes, seeded, each from its own pool.</summary>
    /// <exception cref="InvalidOperationException">A class has fewer candidates than the split needs.</exception>
    public static (LabeledTexts Train, LabeledTexts Validation, LabeledTexts Test) Build(MiniLmZooSources src, MiniLmTaskSpec spec, SplitSizes sizes, ulong seed) =>
        TextZooTasks.DrawSplits(spec.Name, spec.ClassNames, pool => Candidates(src, spec, pool), (sizes.Train, sizes.Validation, sizes.Test), seed);
}
