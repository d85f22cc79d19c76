using MLNetMerge.Data;

namespace MLNetMerge.Tests.MLNet;

/// <summary>Real text for the tokenizer tests: WordNet glosses (Debian's wordnet-base) and fortunes (Debian's fortunes).</summary>
internal static class RealText
{
    private static List<string>? _glosses, _fortunes;

    /// <summary>Every <paramref name="every"/>-th synset's definition and examples, in file order.</summary>
    public static IReadOnlyList<string> Glosses(int every = 25)
    {
        Require(Path.Combine(WordNetReader.DefaultDirectory, "data.noun"), "wordnet-base");
        _glosses ??= [.. WordNetReader.ReadAll().Where((_, i) => i % every == 0).SelectMany(s => s.Examples.Prepend(s.Definition))];
        return _glosses;
    }

    /// <summary>All fortunes of a few categories (multi-line entries, punctuation, quotes, odd characters).</summary>
    public static IReadOnlyList<string> Fortunes()
    {
        Require(Path.Combine(FortuneReader.DefaultDirectory, "computers"), "fortunes");
        _fortunes ??= [.. FortuneReader.ReadCategories(["computers", "science", "linux", "literature", "pratchett", "zippy", "translate-me", "ascii-art"]).Select(f => f.Text)];
        return _fortunes;
    }

    private static void Require(string path, string package)
    {
        if (!File.Exists(path)) Assert.Fail($"{path} not found: install Debian's {package} (bash tools/ci-deps.sh test)");
    }
}
