using System.Diagnostics;

namespace MLNetMerge.Tests;

/// <summary>The built <c>mlnetmerge</c> CLI run as a process, as a user runs it (its own runtime configuration).</summary>
internal static class CliProcess
{
    /// <summary>The CLI's dll in this configuration's build; the test is inconclusive when it is not built.</summary>
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

    /// <summary>Runs <c>mlnetmerge ARGS</c>; returns its exit code, standard output and standard error.</summary>
    public static (int Code, string Out, string Err) Run(TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll());
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.IsTrue(p.WaitForExit(timeout), $"mlnetmerge {string.Join(' ', args)} did not finish in {timeout.TotalMinutes} minutes");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs <c>mlnetmerge ARGS</c>, which must succeed; returns its standard output.</summary>
    public static string Succeed(params string[] args)
    {
        var (code, output, error) = Run(TimeSpan.FromMinutes(5), args);
        Assert.AreEqual(0, code, $"mlnetmerge {string.Join(' ', args)}: {error}\n{output}");
        return output;
    }
}
