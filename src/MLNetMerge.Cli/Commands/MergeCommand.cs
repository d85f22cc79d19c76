using System.CommandLine;
using System.Text;
using MLNetMerge.Recipes;
using MLNetMerge.Errors;

namespace MLNetMerge.Cli.Commands;

/// <summary><c>mlnetmerge merge RECIPE.yaml</c>, or the same recipe given by flags.</summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var recipeArg = new Argument<string?>("recipe") { Description = "Recipe YAML (omit to give the recipe by flags).", Arity = ArgumentArity.ZeroOrOne };
        var force = new Option<bool>("--force") { Description = "Replace an existing output directory." };
        var materialize = new Option<string[]>("--materialize") { Description = "Also write tasks/<name>.safetensors for these tasks ('all' for every task).", AllowMultipleArgumentsPerToken = true, Arity = ArgumentArity.ZeroOrMore };
        var output = new Option<string?>("--output", "-o") { Description = "Output directory (overrides the recipe's)." };
        var threads = new Option<int>("--threads") { Description = "Worker threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var mmap = new Option<bool>("--mmap") { Description = "Copy every tensor read out of a memory map (F32 safetensors slices are read in place from one anyway)." };
        var method = new Option<string?>("--method") { Description = "Method (flag form)." };
        var basePath = new Option<string?>("--base") { Description = "Base checkpoint (flag form)." };
        var models = new Option<string[]>("--model") { Description = "name=path of a fine-tuned model (flag form, repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var parameters = new Option<string[]>("--param") { Description = "key=value parameter (flag form, repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var heads = new Option<string?>("--heads") { Description = "Head tensor pattern (flag form)." };
        var seed = new Option<ulong>("--seed") { Description = "Seed (flag form)." };
        var dtype = new Option<string?>("--dtype") { Description = "Output dtype (flag form)." };
        var maxShard = new Option<string?>("--max-shard-size") { Description = "Shard model.safetensors above this size, e.g. 2GB (flag form)." };
        var allowNonFinite = new Option<bool>("--allow-nonfinite") { Description = "Merge inputs holding NaN or infinity." };
        var cmd = new Command("merge", "Merge a family of checkpoints as a recipe says; writes model.safetensors, recipe.yaml, README.md atomically.");
        cmd.Arguments.Add(recipeArg);
        foreach (var o in new Option[] { force, materialize, output, threads, mmap, method, basePath, models, parameters, heads, seed, dtype, maxShard, allowNonFinite }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            string? path = r.GetValue(recipeArg);
            if (r.GetValue(threads) < 1) throw new MLNetMerge.Errors.MergeException(null, null, $"--threads must be at least 1; got {r.GetValue(threads)}.");
            // The flags that write a recipe apply only without one: given with RECIPE.yaml they would be silently dropped.
            var recipeFlags = new Option[] { method, basePath, models, parameters, heads, seed, dtype, maxShard, allowNonFinite }.Where(o => r.GetResult(o) is { Implicit: false }).ToList();
            if (path is not null && recipeFlags.Count > 0 && !File.Exists(path) && !Directory.Exists(path))
                throw new RecipeException(null, $"'{path}' is not a recipe file, and with {string.Join(", ", recipeFlags.Select(o => o.Name))} the merge is built from flags: a stray word? (--param takes NAME=VALUE as one word, --model NAME=PATH)");
            if (path is not null && recipeFlags.Count > 0)
                throw new RecipeException(path, $"{string.Join(", ", recipeFlags.Select(o => o.Name))} build a recipe from flags and apply only without RECIPE.yaml; set them in the recipe instead.");
            var asked = r.GetValue(materialize) ?? [];
            if (r.GetResult(materialize) is { Implicit: false } && asked.Length == 0)
                throw new RecipeException(null, "--materialize: no model named; give model names (or all).");
            if (asked.Any(m => m.Split(',').Any(string.IsNullOrWhiteSpace)))
                throw new RecipeException(null, "--materialize: an empty model name; give model names (or all).");
            if (asked.Contains("all") && asked.Length > 1)
                throw new RecipeException(null, "--materialize: 'all' already names every model; give it alone.");
            MergeRecipe recipe = path is not null
                ? MergeRecipe.Load(path)
                : MergeRecipe.Parse(FlagsToYaml(r.GetValue(method), r.GetValue(basePath), r.GetValue(models) ?? [], r.GetValue(parameters) ?? [],
                    r.GetValue(heads), r.GetValue(seed), r.GetValue(dtype), r.GetValue(output), r.GetValue(maxShard), r.GetValue(allowNonFinite)), "<flags>");
            var mat = r.GetValue(materialize) ?? [];
            var list = mat.Contains("all") && !recipe.Models.Any(m => m.Name == "all") ? recipe.Models.Select(m => m.Name).ToList() : mat.SelectMany(m => m.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var result = ConsoleProgress.Run(recipe.Method, p => RecipeRunner.Run(recipe, new RecipeRunOptions
            {
                Steps = RecipeSteps.Merge, Overwrite = r.GetValue(force), Materialize = list, Output = r.GetValue(output),
                MaxThreads = r.GetValue(threads), MemoryMap = r.GetValue(mmap), Progress = p, Log = WarningsOnly, CancellationToken = Interrupts.Token,
            }));
            var summary = result.Summary;
            Console.WriteLine($"merged {summary.TaskNames.Count} model{(summary.TaskNames.Count == 1 ? "" : "s")} with {summary.Method.Name} in {sw.Elapsed.TotalSeconds:F2} s → {result.Output}");
            foreach (var (k, v) in summary.Notes.Where(n => !n.Key.StartsWith(MLNetMerge.Merging.MergeSummary.WarningPrefix, StringComparison.Ordinal)).OrderBy(k => k.Key, StringComparer.Ordinal))
                Console.WriteLine($"  {k}: {v}");
            return 0;
        });
        return cmd;
    }

    /// <summary>The runner's lines a merge prints (on standard error): warnings and notes, not its progress lines.</summary>
    internal static void WarningsOnly(string line)
    {
        if (line.StartsWith("warning: ", StringComparison.Ordinal) || line.StartsWith("note: ", StringComparison.Ordinal)) Console.Error.WriteLine(line);
    }

    private static string FlagsToYaml(string? method, string? basePath, string[] models, string[] parameters, string? heads, ulong seed, string? dtype, string? output, string? maxShard, bool allowNonFinite)
    {
        if (method is null || basePath is null || models.Length == 0)
            throw new RecipeException("<flags>", "give a recipe file, or --method, --base and at least one --model name=path.");
        var sb = new StringBuilder();
        sb.Append("method: ").Append(method).Append('\n').Append("base: \"").Append(basePath).Append("\"\nmodels:\n");
        foreach (var m in models)
        {
            int eq = m.IndexOf('=');
            if (eq <= 0) throw new RecipeException("<flags>", $"--model '{m}' must be name=path.");
            sb.Append("  - { name: \"").Append(m[..eq]).Append("\", path: \"").Append(m[(eq + 1)..]).Append("\" }\n");
        }
        if (parameters.Length > 0)
        {
            sb.Append("parameters:\n");
            var given = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in parameters)
            {
                int eq = p.IndexOf('=');
                if (eq <= 0) throw new RecipeException("<flags>", $"--param '{p}' must be key=value.");
                string key = p[..eq].Trim(), value = p[(eq + 1)..].Trim();
                if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                    throw new RecipeException("<flags>", $"--param '{p}': '{key}' is not a parameter name (letters, digits, '_').");
                if (!given.Add(key)) throw new RecipeException("<flags>", $"--param {key} is given twice.");
                // A number, a word, or a flat list of numbers ([0.2, 0.5]); anything else belongs in a recipe file.
                bool list = value.StartsWith('[') && value.EndsWith(']') && value[1..^1].All(c => c is not (':' or '{' or '}' or '[' or ']' or '#' or '\n'));
                if (value.Length == 0 || (!list && value.Any(c => ":{}[],#&*!|>'\"%@`\n".Contains(c))))
                    throw new RecipeException("<flags>", $"--param '{p}': the value must be a number, a word or a list of numbers like [0.2, 0.5]; write filters and other structure in a recipe file.");
                sb.Append("  ").Append(key).Append(": ").Append(value).Append('\n');
            }
        }
        if (heads is not null) sb.Append("heads: \"").Append(heads).Append("\"\n");
        if (dtype is not null) sb.Append("dtype: ").Append(dtype).Append('\n');
        if (output is not null) sb.Append("output: \"").Append(output).Append("\"\n");
        if (maxShard is not null) sb.Append("max_shard_size: ").Append(maxShard).Append('\n');
        if (allowNonFinite) sb.Append("allow_nonfinite: true\n");
        sb.Append("seed: ").Append(seed).Append('\n');
        return sb.ToString();
    }
}
