using System.Diagnostics;

namespace MLNetMerge.Tests.Safety;

/// <summary>The built <c>mlnetmerge</c> CLI as a child process (its own runtime configuration, exit code, streams and signals).</summary>
internal static class CliProcess
{
    /// <summary>The built CLI assembly (the test is inconclusive when it is not built).</summary>
    public static string Dll()
    {
        string root = Path.GetFullPath(Path.Combine(ZooPaths.Vision, "..", "..", ".."));
#if DEBUG
        const string config = "Debug";
#else
        const string config = "Release";
#endif
        string dll = Path.Combine(root, "src", "MLNetMerge.Cli", "bin", config, "net10.0", "MLNetMerge.Cli.dll");
        if (!File.Exists(dll)) Assert.Inconclusive($"the CLI is not built at {dll}");
        return dll;
    }

    /// <summary>A start description for the CLI with <paramref name="args"/> (streams redirected).</summary>
    public static ProcessStartInfo StartInfo(string[] args, string? workingDirectory = null, IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll());
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        psi.Environment["XDG_CACHE_HOME"] = Path.Combine(Path.GetTempPath(), "mlnetmerge-test-cache");
        psi.Environment.Remove("MLNETMERGE_DEBUG");
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return psi;
    }

    /// <summary>Runs the CLI to the end (2 minutes at most).</summary>
    public static (int Code, string Out, string Err) Run(params string[] args) => RunIn(null, null, args);

    /// <summary>Runs the CLI in <paramref name="workingDirectory"/> with extra environment variables.</summary>
    public static (int Code, string Out, string Err) RunIn(string? workingDirectory, IReadOnlyDictionary<string, string>? env, params string[] args) =>
        RunFor(TimeSpan.FromMinutes(2), workingDirectory, env, args);

    /// <summary>Runs the CLI, which must succeed within 5 minutes (recipes that merge, align and evaluate); returns its
    /// standard output.</summary>
    public static string Succeed(params string[] args)
    {
        var (code, output, error) = RunFor(TimeSpan.FromMinutes(5), null, null, args);
        Assert.AreEqual(0, code, $"mlnetmerge {string.Join(' ', args)}: {error}\n{output}");
        return output;
    }

    private static (int Code, string Out, string Err) RunFor(TimeSpan timeout, string? workingDirectory, IReadOnlyDictionary<string, string>? env, string[] args)
    {
        using var p = Process.Start(StartInfo(args, workingDirectory, env))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"mlnetmerge {string.Join(' ', args)} did not finish in {timeout.TotalMinutes} minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Asserts a failure with exit code <paramref name="code"/> and exactly one line on standard error, starting
    /// with <paramref name="prefix"/>, without a stack trace; returns the line.</summary>
    public static string AssertOneLine((int Code, string Out, string Err) result, int code = 2, string prefix = "error: ")
    {
        var lines = result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !IsProgress(l)).ToList();
        Assert.AreEqual(code, result.Code, result.Err + result.Out);
        Assert.AreEqual(1, lines.Count, "expected one line on stderr:\n" + result.Err);
        StringAssert.StartsWith(lines[0], prefix, result.Err);
        Assert.IsFalse(result.Err.Contains("   at ", StringComparison.Ordinal), "stack trace:\n" + result.Err);
        Assert.IsFalse(result.Out.Contains("Usage:", StringComparison.Ordinal), "help printed:\n" + result.Out);
        return lines[0];
    }

    /// <summary>The plain progress lines a redirected run prints on stderr ("ties: pass 1/3 70/70").</summary>
    private static bool IsProgress(string line) => System.Text.RegularExpressions.Regex.IsMatch(line, @"^[\w\- ]+: [\w/ \-]+ \d+/\d+( loss [\d.]+)?$");

    /// <summary>Sends <paramref name="signal"/> (INT, TERM, KILL) to a process.</summary>
    public static void Signal(Process process, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        kill.WaitForExit();
    }
}
