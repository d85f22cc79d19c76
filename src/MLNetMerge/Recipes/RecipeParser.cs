using System.Globalization;
using MLNetMerge.Merging;
using MLNetMerge.Tensors;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MLNetMerge.Recipes;

/// <summary>Reads recipe YAML into a <see cref="MergeRecipe"/>, rejecting unknown keys with the recipe's file name.</summary>
internal static class RecipeParser
{
    private static readonly string[] Sections = ["align", "evaluate", "export", "sweep"];

    public static MergeRecipe Parse(string yaml, string? source, string baseDirectory)
    {
        var stream = Load(yaml, source);
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new RecipeException(source, "a recipe is one YAML mapping.");

        string? method = null, basePath = null, output = null, heads = null;
        DType? dtype = null;
        ulong seed = 0;
        long? maxShard = null;
        bool allowNonFinite = false;
        var materialize = new List<string>();
        var models = new List<RecipeModel>();
        var parameters = new Dictionary<string, ParameterValue>(StringComparer.Ordinal);
        var sections = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        var canonical = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in root.Children)
        {
            string key = Scalar(keyNode, source, "key");
            // mergekit's names are aliases: a recipe may use either, not both (the second would silently win).
            string name = key switch { "merge_method" => "method", "base_model" => "base", _ => key };
            if (canonical.TryGetValue(name, out var first) && first != key)
                throw new RecipeException(source, $"'{first}' and '{key}' name the same setting; keep one.");
            canonical[name] = key;
            switch (key)
            {
                case "version":
                    if (Scalar(value, source, key) != "1") throw new RecipeException(source, $"recipe version {Scalar(value, source, key)} is not supported; this library reads version {MergeRecipe.SchemaVersion}.");
                    break;
                case "method" or "merge_method": method = Scalar(value, source, key); break;
                case "base" or "base_model": basePath = Resolve(Scalar(value, source, key), baseDirectory, source, key); break;
                case "output": output = Resolve(Scalar(value, source, key), baseDirectory, source, key); break;
                case "heads": heads = Scalar(value, source, key); break;
                case "dtype":
                    string d = Scalar(value, source, key);
                    if (!DTypes.TryParseRecipe(d, out var parsed)) throw new RecipeException(source, $"dtype '{d}' is not one of float32, float16, bfloat16, float64.");
                    dtype = parsed;
                    break;
                case "seed":
                    if (!ulong.TryParse(Scalar(value, source, key), NumberStyles.Integer, CultureInfo.InvariantCulture, out seed))
                        throw new RecipeException(source, "seed must be a non-negative integer.");
                    break;
                case "max_shard_size": maxShard = ParseSize(Scalar(value, source, key), source); break;
                case "allow_nonfinite": allowNonFinite = Bool(value, source, key); break;
                case "materialize":
                    if (value is YamlSequenceNode seq) materialize.AddRange(seq.Children.Select(c => Scalar(c, source, key)));
                    else materialize.Add(Scalar(value, source, key));
                    break;
                case "models": models.AddRange(ParseModels(value, source, baseDirectory)); break;
                case "parameters":
                    foreach (var (k, v) in Mapping(value, source, key).Children)
                    {
                        string parameter = Scalar(k, source, key);
                        parameters[parameter] = ParseValue(v, source, $"parameters.{parameter}");
                    }
                    break;
                default:
                    if (Sections.Contains(key)) { sections[key] = value; break; }
                    throw new RecipeException(source, $"unknown key '{key}'; a recipe takes method, base, models, parameters, heads, dtype, seed, output, max_shard_size, allow_nonfinite, materialize, version, align, evaluate, export, sweep.");
            }
        }
        if (method is null) throw new RecipeException(source, "missing 'method'.");
        var (m, implied) = MergeMethods.Find(method, source);
        bool mergekit = canonical.GetValueOrDefault("method") == "merge_method";
        bool baseGiven = basePath is not null;
        if (models.Count == 0) throw new RecipeException(source, "missing 'models' (the fine-tuned checkpoints).");
        if (!baseGiven && mergekit && MergekitDialect.TakesNoBase(m)) basePath = models[0].Path; // shapes only: these methods read no base
        if (basePath is null) throw new RecipeException(source, "missing 'base' (the pretrained checkpoint).");
        var impliedAll = new Dictionary<string, string>(implied, StringComparer.Ordinal);
        if (method == "dare_linear" && parameters.TryGetValue("normalize", out var normalize) && normalize is ParameterValue.Text { Value: "true" })
            impliedAll["merge"] = "average"; // mergekit's dare_linear with normalize: the weighted mean of the dropped vectors
        if (mergekit)
            (models, impliedAll) = MergekitDialect.Apply(m, method, models, baseGiven ? basePath : null, parameters, impliedAll, source);
        else if (models.FindIndex(x => MergekitDialect.IsBase(x.Path, basePath)) is int baseAt and >= 0 && TakesTaskVectors(m, parameters, impliedAll))
            throw new RecipeException(source, $"model '{models[baseAt].Name}' is the base checkpoint: its task vector is zero, which {m.Name} would count as a task; remove it from 'models' (a recipe written with mergekit's 'merge_method' leaves it out, as mergekit does).");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in models)
            if (!names.Add(model.Name)) throw new RecipeException(source, $"model name '{model.Name}' is used twice (names come from the file or folder name; give each model a 'name:').");
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var model in models)
        {
            // Compared through real paths: a symbolic link to a listed checkpoint is the same checkpoint.
            string real = File.Exists(model.Path) || Directory.Exists(model.Path) ? Checkpoints.OutputGuard.RealPath(model.Path) : Path.GetFullPath(model.Path);
            if (!paths.TryAdd(real, model.Name))
                throw new RecipeException(source, $"models '{paths[real]}' and '{model.Name}' are the same checkpoint ({model.Path}); list each model once.");
        }
        // materialize: all, as --materialize all: every model (unless a model is named all).
        if (materialize.Contains("all") && !models.Any(x => x.Name == "all")) materialize = [.. models.Select(x => x.Name)];
        var recipe = new MergeRecipe
        {
            Method = m.Name, ImpliedParameters = impliedAll, AliasName = m.Name == method ? null : method, Base = basePath, Models = models, Parameters = parameters,
            Heads = heads ?? Checkpoints.HeadFilter.DefaultPattern, DType = dtype, Seed = seed, Output = output,
            MaxShardBytes = maxShard, AllowNonFinite = allowNonFinite, Materialize = materialize, Sections = sections, Source = source,
            BaseDirectory = Path.GetFullPath(baseDirectory),
        };
        recipe.ResolveParameters(); // fail early on unknown or bad parameters
        return recipe;
    }

    /// <summary>Whether the method merges task vectors (θt − θ0) for these parameters: all but weight averaging, karcher and
    /// the slerps over raw weights.</summary>
    private static bool TakesTaskVectors(MergeMethod method, IReadOnlyDictionary<string, ParameterValue> parameters, IReadOnlyDictionary<string, string> implied)
    {
        if (method.Name is "weight_average" or "karcher") return false;
        if (method.Parameters.Any(p => p.Name == "over"))
        {
            string over = parameters.TryGetValue("over", out var v) && v is ParameterValue.Text t ? t.Value : implied.GetValueOrDefault("over") ?? "task_vectors";
            return over != "weights";
        }
        return true;
    }

    private static IEnumerable<RecipeModel> ParseModels(YamlNode node, string? source, string baseDirectory)
    {
        if (node is not YamlSequenceNode seq) throw new RecipeException(source, "'models' must be a list.");
        int i = 0;
        foreach (var item in seq.Children)
        {
            var map = Mapping(item, source, $"models[{i}]");
            string? name = null, path = null;
            var p = new Dictionary<string, ParameterValue>(StringComparer.Ordinal);
            foreach (var (k, v) in map.Children)
            {
                string key = Scalar(k, source, "key");
                switch (key)
                {
                    case "name": name = Scalar(v, source, key); break;
                    case "path" or "model":
                        if (path is not null)
                            throw new RecipeException(source, $"models[{i}] gives both 'path' and 'model', which name the same setting; keep one.");
                        path = Resolve(Scalar(v, source, key), baseDirectory, source, key);
                        break;
                    case "parameters":
                        foreach (var (pk, pv) in Mapping(v, source, key).Children)
                        {
                            string parameter = Scalar(pk, source, key);
                            p[parameter] = ParseValue(pv, source, $"models[{i}].parameters.{parameter}");
                        }
                        break;
                    default: throw new RecipeException(source, $"unknown key '{key}' in models[{i}]; a model takes name, path (or model) and parameters.");
                }
            }
            if (path is null) throw new RecipeException(source, $"models[{i}] has no 'path'.");
            if (name is not null && (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')))
                throw new RecipeException(source, $"models[{i}].name '{name}': a model name is ASCII letters, digits, '_' or '-' (it names files and columns).");
            name ??= SanitizedName(path);
            yield return new RecipeModel(name, path, p);
            i++;
        }
    }

    /// <summary>The checkpoint file endings a model's default name drops; any other dot is part of the name (a folder
    /// <c>ckpt.v1</c>, <c>vit-base.fashion-ft</c>).</summary>
    private static readonly string[] CheckpointEndings = [".safetensors.index.json", ".bin.index.json", ".safetensors", ".bin", ".pt", ".pth", ".onnx"];

    /// <summary>A model's name when the recipe gives none: its file name without a checkpoint ending (the folder's name for
    /// <c>model.*</c> and <c>pytorch_model.*</c>), each character other than an ASCII letter, digit, '_' or '-' as '_'.</summary>
    internal static string SanitizedName(string path)
    {
        string file = Path.GetFileName(path.TrimEnd('/', '\\'));
        string stem = CheckpointEndings.FirstOrDefault(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase)) is { } ending ? file[..^ending.Length] : file;
        if (stem is "model" or "pytorch_model") stem = Path.GetFileName(Path.GetDirectoryName(path.TrimEnd('/', '\\'))) ?? stem;
        return new string(stem.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_').ToArray());
    }

    /// <summary>Parses a YAML mapping of parameter values (as written by <see cref="RecipeWriter.Parameters"/>).</summary>
    internal static Dictionary<string, ParameterValue> ParseParameters(string yaml, string? source)
    {
        var result = new Dictionary<string, ParameterValue>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(yaml)) return result;
        var stream = Load(yaml, source);
        if (stream.Documents.Count != 1) throw new RecipeException(source, "the parameters are one YAML mapping.");
        foreach (var (k, v) in Mapping(stream.Documents[0].RootNode, source, "parameters").Children)
        {
            string name = Scalar(k, source, "key");
            result[name] = ParseValue(v, source, name);
        }
        return result;
    }

    /// <summary>A parameter value: number or word; a list of numbers (gradient); or a list of {filter, value}.</summary>
    /// <summary>A parameter's value: a number, a word, a list of numbers (one per layer), or a list of {filter, value}.</summary>
    /// <param name="node">The YAML value.</param>
    /// <param name="source">The recipe file, for errors.</param>
    /// <param name="where">Where the value stands (<c>parameters.scale</c>), for errors.</param>
    /// <exception cref="RecipeException">Anything else, naming <paramref name="where"/>.</exception>
    internal static ParameterValue ParseValue(YamlNode node, string? source, string where)
    {
        if (where.EndsWith(".<<", StringComparison.Ordinal))
            throw new RecipeException(source, $"{where}: YAML merge keys (<<) are not read in recipes; write the parameters out.");
        switch (node)
        {
            case YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" }:
                throw new RecipeException(source, $"{where} is null (line {node.Start.Line}); give a value, or leave the parameter out.");
            case YamlScalarNode s:
                string text = s.Value ?? "";
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? new ParameterValue.Scalar(d) : new ParameterValue.Text(text);
            case YamlSequenceNode { Children.Count: 0 }:
                throw new RecipeException(source, $"{where}: an empty list; give a number, or a list of numbers (one per layer).");
            case YamlSequenceNode seq when seq.Children.All(c => c is YamlScalarNode):
                return new ParameterValue.Gradient(seq.Children.Select(c =>
                    double.TryParse(((YamlScalarNode)c).Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x
                        : throw new RecipeException(source, $"{where}: list entry '{((YamlScalarNode)c).Value}' is not a number (a list of numbers gives one value per layer).")).ToList());
            case YamlSequenceNode seq:
                var entries = new List<(string?, ParameterValue)>();
                foreach (var c in seq.Children)
                {
                    if (c is not YamlMappingNode map)
                        throw new RecipeException(source, $"{where}: a list of {{filter, value}} entries holds '{(c as YamlScalarNode)?.Value ?? c.NodeType.ToString()}'; every entry is a mapping (or give a list of numbers alone).");
                    string? filter = null;
                    ParameterValue? value = null;
                    foreach (var (k, v) in map.Children)
                    {
                        string key = Scalar(k, source, "key");
                        if (key == "filter") filter = Scalar(v, source, key);
                        else if (key == "value") value = ParseValue(v, source, where);
                        else throw new RecipeException(source, $"{where}: unknown key '{key}' in a filter entry; it takes filter and value.");
                    }
                    entries.Add((filter, value ?? throw new RecipeException(source, $"{where}: a filter entry needs 'value'.")));
                }
                return new ParameterValue.Filtered(entries);
            default:
                throw new RecipeException(source, $"{where}: a parameter is a number, a word, a list of numbers or a list of {{filter, value}}.");
        }
    }

    internal static long ParseSize(string text, string? source)
    {
        string t = text.Trim().ToUpperInvariant();
        long mult = 1;
        foreach (var (suffix, m) in new[] { ("GIB", 1L << 30), ("MIB", 1L << 20), ("KIB", 1L << 10), ("GB", 1_000_000_000L), ("MB", 1_000_000L), ("KB", 1_000L), ("B", 1L) })
            if (t.EndsWith(suffix, StringComparison.Ordinal)) { mult = m; t = t[..^suffix.Length]; break; }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v <= 0)
            throw new RecipeException(source, $"size '{text}' is not a positive size like 2GB, 500MB or 512MiB.");
        double bytes = v * mult;
        return bytes is >= 1 and < long.MaxValue ? (long)bytes
            : throw new RecipeException(source, $"size '{text}' is {(bytes < 1 ? "under a byte" : "beyond any file (over 9.2 EB)")}; expected a size like 2GB, 500MB or 512MiB.");
    }

    /// <summary>Reads YAML text. Malformed text fails as one <see cref="RecipeException"/>: YamlDotNet's own
    /// <see cref="YamlException"/>, and the other exceptions it throws on some malformed flow mappings
    /// (InvalidOperationException, InvalidCastException; found by the fuzz campaign, tools/fuzz).</summary>
    private static YamlStream Load(string yaml, string? source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            // YamlDotNet places a tab in the indentation at the start of its mapping: name the line that holds it.
            if (e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase)
                && yaml.Split('\n').Select((line, i) => (Line: line, Number: i + 1)).FirstOrDefault(l => l.Line.TrimStart(' ').StartsWith('\t')) is { Line: not null } tabbed)
                throw new RecipeException(source, $"invalid YAML at line {tabbed.Number}: a tab in the indentation (YAML indents with spaces).", e);
            // An alias whose anchor is not defined is found after parsing, where YamlDotNet no longer knows its line.
            if (e is AnchorNotFoundException && AliasName.Match(e.Message) is { Success: true } m)
                throw new RecipeException(source, UndefinedAlias(yaml, m.Groups[1].Value), e);
            throw new RecipeException(source, $"invalid YAML at line {e.Start.Line}: {e.Message}", e);
        }
        catch (Exception e) when (e is not OutOfMemoryException) // only YamlDotNet runs inside Load: any failure is the text's
        {
            throw new RecipeException(source, $"invalid YAML ({e.GetType().Name} in the YAML reader: {e.Message})", e);
        }
        return stream;
    }

    private static readonly System.Text.RegularExpressions.Regex AliasName = new("anchor '([^']*)'", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>The message for an alias <c>*name</c> with no anchor <c>&amp;name</c> before it, naming the first line
    /// that uses it.</summary>
    private static string UndefinedAlias(string yaml, string name)
    {
        var use = new System.Text.RegularExpressions.Regex(@"(^|[\s\[{,:])\*" + System.Text.RegularExpressions.Regex.Escape(name) + @"($|[\s\]},])", System.Text.RegularExpressions.RegexOptions.CultureInvariant);
        int line = yaml.Split('\n').Select((text, i) => (Text: Unquoted(text), Number: i + 1)).FirstOrDefault(l => use.IsMatch(l.Text)).Number;
        string where = line > 0 ? $" at line {line}" : "";
        return $"invalid YAML{where}: the alias *{name} refers to no anchor &{name} defined before it.";
    }

    /// <summary>A YAML line without its quoted scalars and comment (a '#' outside quotes, at the start or after a
    /// space), where an alias cannot be.</summary>
    private static string Unquoted(string line)
    {
        var sb = new System.Text.StringBuilder(line.Length);
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                continue;
            }
            if (c is '"' or '\'') { quote = c; sb.Append(' '); continue; }
            if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1]))) break;
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static string Resolve(string path, string baseDirectory, string? source, string key) =>
        path.Contains('\0', StringComparison.Ordinal) ? throw new RecipeException(source, $"{key}: the path holds a NUL character, which no file name may.")
            : Resolve(path, baseDirectory);

    private static string Resolve(string path, string baseDirectory) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(baseDirectory, path));

    /// <summary>A mapping key of a section: a single value (a list or mapping as a key is refused, naming the line).</summary>
    internal static string Key(YamlNode node, string? source, string section) =>
        node is YamlScalarNode s ? s.Value ?? "" : throw new RecipeException(source, $"{section}: a key must be a single word (line {node.Start.Line}).");

    private static string Scalar(YamlNode node, string? source, string what) => node switch
    {
        // YAML's null (~, null, or nothing) is no value, not the text "~" (output: ~ made a folder named ~).
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" } =>
            throw new RecipeException(source, $"'{what}' is null (line {node.Start.Line}); give a value, or leave the key out."),
        YamlScalarNode s => s.Value ?? "",
        _ => throw new RecipeException(source, $"'{what}' must be a single value (line {node.Start.Line})."),
    };

    private static bool Bool(YamlNode node, string? source, string what) =>
        bool.TryParse(Scalar(node, source, what), out var b) ? b : throw new RecipeException(source, $"'{what}' must be true or false.");

    private static YamlMappingNode Mapping(YamlNode node, string? source, string what) =>
        node as YamlMappingNode ?? throw new RecipeException(source, $"'{what}' must be a mapping (line {node.Start.Line}).");
}
