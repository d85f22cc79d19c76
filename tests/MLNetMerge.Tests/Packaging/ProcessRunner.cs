using System.Diagnostics;

namespace MLNetMerge.Tests.Packaging;

/// <summary>Runs a command as a child process with the test run's MSBuild and NuGet variables removed (so a
/// <c>dotnet</c> started from <c>dotnet test</c> neither reuses its MSBuild nor the machine's package folder), and
/// without MSBuild node reuse or the shared compiler (no process outlives the command and holds its output open).</summary>
internal static class ProcessRunner
{
    public static string Run(string workingDirectory, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (string name in psi.Environment.Keys.ToList())
            if (name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || name.StartsWith("NUGET_", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
                psi.Environment.Remove(name);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        psi.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["UseSharedCompilation"] = "false";

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(600_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish in 10 minutes");
        }
        string output = stdout.Result + stderr.Result;
        Assert.AreEqual(0, p.ExitCode, $"{file} {string.Join(' ', args)} (in {workingDirectory}) exited {p.ExitCode}:\n{Tail(output)}");
        return stdout.Result;
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : "…" + text[^6000..];
}
