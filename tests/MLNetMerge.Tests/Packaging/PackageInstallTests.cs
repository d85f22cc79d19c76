using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;

namespace MLNetMerge.Tests.Packaging;

/// <summary>
/// The packages as a user gets them. <c>dotnet pack --no-build</c> packs the binaries these tests were built with
/// (MLNetMerge and the MLNetMerge.Cli tool) into a local folder feed; a fresh console project whose only package source
/// is that feed (the machine's package folder serves ML.NET and the other dependencies as a fallback folder, read in
/// place) references MLNetMerge by PackageReference and runs the README's quick start, as written in the README, on
/// the committed zoo, printing what examples/QuickStart (the same program, built in the repository) prints; the tool
/// installs from the feed and its <c>mlnetmerge methods</c> lists the registries.
/// </summary>
[TestClass]
public sealed class PackageInstallTests
{
    private static string temp = "";
    private static string feed = "";
    private static string version = "";

    [ClassInitialize]
    public static void PackIntoAFolderFeed(TestContext _)
    {
        temp = Path.Combine(Path.GetTempPath(), "mlnm-packages-" + Guid.NewGuid().ToString("N")[..12]);
        feed = Path.Combine(temp, "feed");
        Directory.CreateDirectory(feed);
        version = RepoFiles.Version();
        foreach (string project in new[] { "src/MLNetMerge/MLNetMerge.csproj", "src/MLNetMerge.Cli/MLNetMerge.Cli.csproj" })
            ProcessRunner.Run(RepoFiles.Root, "dotnet", "pack", project, "-c", RepoFiles.Configuration, "--no-build", "-o", feed,
                "-nodeReuse:false", "-v", "q", $"-p:PublishDir={Path.Combine(temp, "publish")}/"); // the tool's publish step: not in bin/ (200 MB)
    }

    [ClassCleanup]
    public static void DeleteTheFeed()
    {
        if (temp.Length > 0 && Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
    }

    [TestMethod]
    public void Library_package_carries_its_metadata_and_the_tested_dependency_versions()
    {
        string nupkg = Path.Combine(feed, $"MLNetMerge.{version}.nupkg");
        Assert.IsTrue(File.Exists(nupkg), $"no {nupkg}; the feed holds {string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName))}");
        // One version: the assembly the tests ran with says the same (informational version "X.Y.Z+commit").
        string informational = typeof(MLContextExtensions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.AreEqual(version, informational.Split('+')[0]);

        using var zip = ZipFile.OpenRead(nupkg);
        XNamespace ns = XDocument.Load(zip.GetEntry("MLNetMerge.nuspec")!.Open()).Root!.Name.Namespace;
        var metadata = XDocument.Load(zip.GetEntry("MLNetMerge.nuspec")!.Open()).Root!.Element(ns + "metadata")!;
        string Field(string name) => metadata.Element(ns + name)?.Value ?? "";
        Assert.AreEqual("MLNetMerge", Field("id"));
        Assert.AreEqual(version, Field("version"));
        Assert.AreEqual("MLNetMerge contributors", Field("authors"));
        Assert.AreEqual("MIT", Field("license"));
        Assert.AreEqual("expression", metadata.Element(ns + "license")!.Attribute("type")!.Value);
        Assert.AreEqual("README.md", Field("readme"));
        Assert.AreEqual(metadata.Element(ns + "repository")!.Attribute("url")!.Value, Field("projectUrl"));
        StringAssert.Contains(Field("tags"), "ml.net");
        StringAssert.StartsWith(Field("releaseNotes"), $"## [{version}]");
        StringAssert.Contains(RepoFiles.Read("CHANGELOG.md"), Field("releaseNotes").Replace("\r\n", "\n"));
        using (var readme = new StreamReader(zip.GetEntry("README.md")!.Open()))
            Assert.AreEqual(RepoFiles.Read("src/MLNetMerge/PACKAGE.md"), readme.ReadToEnd().Replace("\r\n", "\n"));
        Assert.IsNotNull(zip.GetEntry("LICENSE"));
        Assert.IsNotNull(zip.GetEntry("lib/net10.0/MLNetMerge.dll"));
        Assert.IsNotNull(zip.GetEntry("lib/net10.0/MLNetMerge.xml"), "XML documentation");

        // Dependencies: the library's package references (less the build-only ones) at the central versions the tests
        // ran with; NuGet resolves the lowest version that satisfies, so a user gets these unless asking for newer.
        var central = XDocument.Load(Path.Combine(RepoFiles.Root, "Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(e => e.Attribute("Include")!.Value, e => e.Attribute("Version")!.Value);
        var expected = XDocument.Load(Path.Combine(RepoFiles.Root, "src", "MLNetMerge", "MLNetMerge.csproj")).Descendants("PackageReference")
            .Where(e => e.Attribute("PrivateAssets")?.Value != "all")
            .Select(e => $"{e.Attribute("Include")!.Value} {central[e.Attribute("Include")!.Value]}").Order().ToList();
        var actual = metadata.Descendants(ns + "dependency")
            .Select(e => $"{e.Attribute("id")!.Value} {e.Attribute("version")!.Value}").Order().ToList();
        CollectionAssert.AreEqual(expected, actual, "nuspec dependencies: " + string.Join(", ", actual));
        Assert.IsTrue(expected.Count >= 10 && expected.Contains("Microsoft.ML 6.0.0"), string.Join(", ", expected));

        string snupkg = Path.ChangeExtension(nupkg, ".snupkg");
        Assert.IsTrue(File.Exists(snupkg), "symbol package");
        using var symbols = ZipFile.OpenRead(snupkg);
        Assert.IsNotNull(symbols.GetEntry("lib/net10.0/MLNetMerge.pdb"));
    }

    [TestMethod]
    public void Readme_quick_start_from_the_package_prints_what_the_in_repo_build_prints()
    {
        string app = Path.Combine(temp, "app");
        Directory.CreateDirectory(app);
        // Stop MSBuild's search for Directory.Build.props/targets and central versions above the temp folder.
        foreach (string name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
            File.WriteAllText(Path.Combine(app, name), "<Project />\n");
        string packages = Path.Combine(temp, "packages");
        string machine = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env ? env
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{packages}" /></config>
              <packageSources><clear /><add key="feed" value="{feed}" /></packageSources>
              <fallbackPackageFolders><clear /><add key="machine" value="{machine}" /></fallbackPackageFolders>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "QuickStartFromPackage.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <!-- as the repository builds examples/QuickStart: percentages print the same on any machine -->
                <InvariantGlobalization>true</InvariantGlobalization>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="MLNetMerge" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), RepoFiles.ReadmeQuickStart());
        ProcessRunner.Run(app, "dotnet", "build", "-c", "Release", "-nodeReuse:false", "-p:UseSharedCompilation=false", "-v", "q");

        // MLNetMerge came from the feed (extracted into this test's package folder), and it is the binary the tests ran with.
        Assert.IsTrue(Directory.Exists(Path.Combine(packages, "mlnetmerge", version)),
            $"MLNetMerge {version} was not restored from the feed into {packages} (a copy in {machine}/mlnetmerge would shadow it: delete it)");
        string built = Path.Combine(app, "bin", "Release", "net10.0");
        CollectionAssert.AreEqual(File.ReadAllBytes(typeof(MLContextExtensions).Assembly.Location), File.ReadAllBytes(Path.Combine(built, "MLNetMerge.dll")));
        Assert.IsFalse(File.Exists(Path.Combine(built, "MLNetMerge.Cli.dll")), "the library package must not bring the CLI");

        string zoo = ZooPaths.Vision;
        string fromPackage = ProcessRunner.Run(app, "dotnet", Path.Combine(built, "QuickStartFromPackage.dll"), zoo);
        string inRepoDll = Path.Combine(RepoFiles.Root, "examples", "QuickStart", "bin", RepoFiles.Configuration, "net10.0", "QuickStart.dll");
        Assert.IsTrue(File.Exists(inRepoDll), $"examples/QuickStart is not built at {inRepoDll}");
        string inRepo = ProcessRunner.Run(RepoFiles.Root, "dotnet", inRepoDll, zoo);

        string[] a = Lines(fromPackage), b = Lines(inRepo);
        CollectionAssert.AreEqual(b, a, $"package build printed:\n{fromPackage}\nin-repo build printed:\n{inRepo}");
        // What is compared: the per-task accuracies, the average, the SDCA probe and the reloaded model's accuracy.
        Assert.IsTrue(a.Count(l => l.Contains("MicroAccuracy", StringComparison.Ordinal)) >= 9, fromPackage);
        StringAssert.Contains(fromPackage, "reloaded accuracy");
    }

    [TestMethod]
    public void Tool_installs_from_the_feed_and_lists_the_registries()
    {
        string toolNupkg = Path.Combine(feed, $"MLNetMerge.Cli.{version}.nupkg");
        using (var zip = ZipFile.OpenRead(toolNupkg))
        {
            using var settings = new StreamReader(zip.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open());
            StringAssert.Contains(settings.ReadToEnd(), "Name=\"mlnetmerge\"");
            // Natives only for the five platforms ONNX Runtime ships for, without debug symbols or import libraries.
            string[] platforms = ["linux-x64", "linux-arm64", "osx", "osx-arm64", "win-x64", "win-arm64"];
            var natives = zip.Entries.Where(e => e.FullName.StartsWith("tools/net10.0/any/runtimes/", StringComparison.Ordinal)).ToList();
            Assert.IsTrue(natives.Any(e => e.FullName.Contains("linux-x64/native/libonnxruntime.so", StringComparison.Ordinal)));
            foreach (var e in natives)
            {
                Assert.IsTrue(platforms.Contains(e.FullName.Split('/')[4]), e.FullName);
                Assert.IsFalse(new[] { ".pdb", ".lib", ".dbg", ".dwarf" }.Any(x => e.FullName.EndsWith(x, StringComparison.Ordinal)), e.FullName);
            }
        }

        string tools = Path.Combine(temp, "tools");
        // The feed is the only source: the working folder's nuget.config clears the machine's sources.
        string work = Path.Combine(temp, "tool-install");
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(work, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources><clear /><add key="feed" value="{feed}" /></packageSources>
            </configuration>
            """);
        ProcessRunner.Run(work, "dotnet", "tool", "install", "--tool-path", tools, "--add-source", feed, "MLNetMerge.Cli", "--version", version);
        string command = Path.Combine(tools, OperatingSystem.IsWindows() ? "mlnetmerge.exe" : "mlnetmerge");
        Assert.IsTrue(File.Exists(command), $"no {command}");

        string methods = ProcessRunner.Run(work, command, "methods");
        // Each registry entry names a row of the tables (first column).
        foreach (var m in Merging.MergeMethods.All) StringAssert.Contains(methods, $"│ {m.Name} ");
        foreach (var s in MLNetMerge.Alignment.AlignmentMethods.All) StringAssert.Contains(methods, $"│ {s.Name} ");
        string help = ProcessRunner.Run(work, command, "--help");
        StringAssert.Contains(help, "mlnetmerge [command] [options]");
        Assert.IsFalse(help.Contains("MLNetMerge.Cli", StringComparison.Ordinal), help);
        Assert.AreEqual(version, ProcessRunner.Run(work, command, "--version").Trim().Split('+')[0]);
    }

    private static string[] Lines(string text) =>
        text.Replace("\r\n", "\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
