using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace MLNetMerge.Tests;

/// <summary>
/// The README's Library section compiles and runs exactly as printed: the C# block between the
/// <c>library-example</c> markers (its <c>using</c> lines included) is compiled with Roslyn as a console program against
/// the assemblies the tests run with, run on the committed vision zoo, and its output checked: the accuracies it prints
/// are those of a merge that classifies (well above the 10-class chance of 0.1), and the model loaded in a fresh
/// context scores as the one saved.
/// </summary>
[TestClass]
public sealed partial class ReadmeLibraryTests
{
    [TestMethod]
    public void Library_section_compiles_and_runs_as_printed()
    {
        string code = LibraryBlock();
        StringAssert.StartsWith(code, "using System;", "the block starts with its using lines");
        var assembly = Compile(code);
        var output = Run(assembly, ZooPaths.Vision);

        var current = CurrentLine().Match(output);
        Assert.IsTrue(current.Success, "no 'current …, knn5 …' line in: " + output);
        foreach (var g in new[] { "current", "knn" })
        {
            double acc = double.Parse(current.Groups[g].Value, CultureInfo.InvariantCulture);
            Assert.IsTrue(acc > 0.1 && acc <= 1, $"{g} accuracy {acc} (chance on fashion's 10 classes: 0.1): " + output);
        }
        var sdca = SdcaLine().Match(output);
        Assert.IsTrue(sdca.Success && double.Parse(sdca.Groups[1].Value, CultureInfo.InvariantCulture) > 0.3, "no SDCA accuracy above chance in: " + output);
        StringAssert.Contains(output, "same after load: True");
    }

    /// <summary>The code between the markers, without its fence.</summary>
    private static string LibraryBlock()
    {
        string readme = ReadmeText();
        const string begin = "<!-- library-example:begin -->\n```csharp\n", end = "```\n<!-- library-example:end -->";
        int i = readme.IndexOf(begin, StringComparison.Ordinal), j = readme.IndexOf(end, StringComparison.Ordinal);
        Assert.IsTrue(i >= 0 && j > i, "README.md lacks the library-example block");
        return readme[(i + begin.Length)..j];
    }

    private static string ReadmeText()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "README.md")) && File.Exists(Path.Combine(dir.FullName, "MLNetMerge.sln")))
                return File.ReadAllText(Path.Combine(dir.FullName, "README.md")).Replace("\r\n", "\n");
        throw new FileNotFoundException("README.md beside MLNetMerge.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Compiles <paramref name="code"/> as a console program with implicit usings off (the block names its own),
    /// against the framework and the test's output folder; fails with every diagnostic when it does not compile.</summary>
    private static Assembly Compile(string code)
    {
        var tree = CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest));
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(Directory.GetFiles(AppContext.BaseDirectory, "*.dll"))
            .Where(IsManaged).GroupBy(Path.GetFileName).Select(g => g.First());
        var compilation = CSharpCompilation.Create("ReadmeLibrary", [tree], paths.Select(p => MetadataReference.CreateFromFile(p)),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var ms = new MemoryStream();
        var emitted = compilation.Emit(ms);
        var problems = emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).ToList();
        Assert.IsTrue(emitted.Success && problems.Count == 0, "the README's Library block does not compile cleanly:\n" + string.Join("\n", problems));
        return AssemblyLoadContext.Default.LoadFromStream(new MemoryStream(ms.ToArray()));
    }

    private static bool IsManaged(string path)
    {
        try { AssemblyName.GetAssemblyName(path); return true; }
        catch (BadImageFormatException) { return false; }
    }

    /// <summary>Runs the program's entry point with <paramref name="zoo"/> as its argument; returns what it printed.</summary>
    private static string Run(Assembly program, string zoo)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        var previous = Console.Out;
        Console.SetOut(writer);
        try { program.EntryPoint!.Invoke(null, [new[] { zoo }]); }
        finally { Console.SetOut(previous); }
        Console.WriteLine(writer.ToString());
        return writer.ToString();
    }

    [GeneratedRegex(@"current (?<current>\d\.\d{4}), knn5 (?<knn>\d\.\d{4})")]
    private static partial Regex CurrentLine();

    [GeneratedRegex(@"sdca (\d\.\d{4})")]
    private static partial Regex SdcaLine();
}
