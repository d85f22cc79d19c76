using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;
using MLNetMerge.Encoders;

namespace MLNetMerge.Merging;

/// <summary>Settings of one streaming merge.</summary>
internal sealed record MergeExecutionOptions
{
    /// <summary>Worker threads (tensors are processed in parallel; each tensor's arithmetic is independent of the count). Default: processor count.</summary>
    public int MaxThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>Accept NaN or infinity in inputs. Default false: a <see cref="NonFiniteTensorException"/> names the tensor.</summary>
    public bool AllowNonFinite { get; init; }

    /// <summary>Stored dtype of merged tensors; null keeps each tensor's base dtype.</summary>
    public DType? OutputDType { get; init; }

    /// <summary>Tasks whose full checkpoints are also produced.</summary>
    public IReadOnlyList<string> Materialize { get; init; } = [];

    /// <summary>Seed for randomised methods.</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// Elements per slice when an element-wise method's merge pass is streamed in slices (θ0, every θt and the output
    /// of one slice stay in the core's L2 cache instead of streaming whole tensors through memory several times).
    /// Default 65,536 (256 KiB per buffer: with 8 models a worker's slice set is 2.5 MiB, in L2 and the shared L3; fewer, larger reads measured faster than 16,384 on the 8-model bench); 0 merges whole tensors. The result is the same bytes either way.
    /// </summary>
    public int SliceElements { get; init; } = 65536;
}

/// <summary>
/// Streams a family through a merge method one tensor at a time: θ0 and every θt of a tensor are read into pooled
/// buffers, merged, written, and the buffers reused for the next tensor, so peak memory is a few tensors per model
/// and worker, whatever the model size. Methods needing global statistics get extra read-only passes first.
/// </summary>
internal static partial class MergeExecutor
{
    /// <summary>
    /// Merges <paramref name="family"/> into memory (per-task methods keep every task's own tensors), and, when
    /// <paramref name="alsoTo"/> is given, into that directory in the same pass (exactly the files a streaming merge writes:
    /// tasks are materialized on disk only when <see cref="MergeExecutionOptions.Materialize"/> names them). The result
    /// runs on the family's encoder session when the family knows its architecture.
    /// </summary>
    public static MergedModel RunInMemory(ModelFamily family, MergeMethod method, MergeParameters parameters,
        MergeExecutionOptions? options = null, IProgress<MergeProgress>? progress = null, DirectoryMergeSink? alsoTo = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new MergeExecutionOptions();
        var memory = new InMemoryMergeSink { KeepTaskTensors = method.IsPerTask };
        IMergeSink sink = alsoTo is null ? memory : new TeeMergeSink(alsoTo, memory, options.Materialize.ToHashSet(StringComparer.Ordinal));
        var run = new MergeExecutionOptions
        {
            MaxThreads = options.MaxThreads, AllowNonFinite = options.AllowNonFinite, OutputDType = options.OutputDType, Seed = options.Seed,
            SliceElements = options.SliceElements,
            Materialize = method.IsPerTask ? family.TaskNames : options.Materialize,
        };
        Run(family, method, parameters, sink, run, progress, cancellationToken);
        // The merged model runs on the family's encoder session (one per family: the embeddings it cached are shared).
        return family.HasArchitecture ? memory.Result!.WithEncoder(family.Architecture, family.Session) : memory.Result!;
    }

    /// <summary>Merges <paramref name="family"/> into memory with the method of recipe name <paramref name="method"/> and
    /// its global <paramref name="parameters"/> (declared defaults for the rest).</summary>
    /// <exception cref="RecipeException">An unknown method or parameter, or a value out of range.</exception>
    internal static MergedModel RunInMemory(ModelFamily family, string method, IReadOnlyDictionary<string, ParameterValue>? parameters = null, ulong seed = 0)
    {
        var (found, implied) = MergeMethods.Find(method);
        var global = implied.ToDictionary(kv => kv.Key, kv => (ParameterValue)new ParameterValue.Text(kv.Value), StringComparer.Ordinal);
        foreach (var (key, value) in parameters ?? new Dictionary<string, ParameterValue>()) global[key] = value;
        var merge = new MergeParameters(found, global, family.TaskNames.Select(_ => (IReadOnlyDictionary<string, ParameterValue>?)null).ToList());
        return RunInMemory(family, found, merge, new MergeExecutionOptions { Seed = seed });
    }

    /// <summary>Runs the merge into <paramref name="sink"/>.</summary>
    public static MergeSummary Run(ModelFamily family, MergeMethod method, MergeParameters parameters, IMergeSink sink,
        MergeExecutionOptions? options = null, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new MergeExecutionOptions();
        int t = family.Tasks.Count;
        if (t < method.MinModels || t > method.MaxModels)
            throw new RecipeException(null, method.MinModels == method.MaxModels
                ? $"method '{method.Name}' takes {method.MinModels} fine-tuned models; {t} {(t == 1 ? "is" : "are")} given."
                : method.MaxModels == int.MaxValue
                    ? $"method '{method.Name}' takes at least {method.MinModels} fine-tuned models; {t} {(t == 1 ? "is" : "are")} given."
                    : $"method '{method.Name}' takes {method.MinModels} to {method.MaxModels} fine-tuned models; {t} {(t == 1 ? "is" : "are")} given.");
        foreach (var name in options.Materialize)
            if (!family.TaskNames.Contains(name))
                throw new RecipeException(null, $"cannot materialize '{name}': the family's tasks are {string.Join(", ", family.TaskNames)}.");

        var materialize = options.Materialize.Select(n => family.TaskNames.ToList().IndexOf(n)).ToArray();
        var plan = MergePlan.Of(family, options.Seed) with { Materialized = materialize, AllowNonFinite = options.AllowNonFinite, RewritableOutput = sink.RewritesModel };
        var run = method.Begin(plan, parameters);
        using var owned = run as IDisposable; // runs that hold per-thread state release it when the merge ends
        parameters = run.Parameters ?? parameters;
        sink.Begin(Layout(family, run, method, options));

        // Copied tensors (integer buffers) and heads: raw bytes, once.
        CopyRaw(family, sink, options);

        var order = new int[plan.Tensors.Count]; // largest first, then plan order
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => plan.Tensors[a].ElementCount != plan.Tensors[b].ElementCount
            ? plan.Tensors[b].ElementCount.CompareTo(plan.Tensors[a].ElementCount) : a.CompareTo(b));
        int slice = options.SliceElements > 0 && run.IsElementwise && !method.IsPerTask && materialize.Length == 0 && sink.AcceptsSlices
            && family.Base.SupportsRangeReads && family.Tasks.All(t => t.Reader.SupportsRangeReads) ? options.SliceElements : 0;
        var items = MergeWorkItem.Of(plan, order, slice);
        int passesDone = 0;
        bool inputsChecked = false; // by a pass that read every element
        void Passes()
        {
            for (; passesDone < run.PassCount; passesDone++)
            {
                int p = passesDone, every = slice > 0 ? run.PassSampling(p) : 1;
                var passItems = every > 1 ? MergeWorkItem.Sampled(items, every) : items;
                var partials = new object?[passItems.Count];
                ForEachItem(family, plan, run, parameters, passItems, slice, options, checkFinite: !inputsChecked, raw: false, $"pass {p + 1}/{run.PassCount}", progress, cancellationToken,
                    (ctx, item) => { ctx.Sampled = every > 1; partials[item] = run.Visit(p, ctx); });
                inputsChecked |= every == 1;
                run.EndPass(p, MergeWorkItem.PerTensor(run, plan, passItems, partials));
            }
        }
        Passes();

        // Runs that merge raw buffers (plain task arithmetic) get θ0 and θt untouched and do τt, the finite check and
        // the merge in one fused sweep; an input it flags is then checked on its own to name the file and tensor.
        bool raw = run.MergesRaw && run.PassCount == 0;
        bool checkMerge = run.PassCount == 0 && !options.AllowNonFinite;
        bool late = materialize.Length > 0 && run.MaterializesAfterMerge;
        var stash = late ? sink.TaskScratch(family.TaskNames[materialize[^1]]) : null; // the last task written after the merge pass
        ForEachItem(family, plan, run, parameters, items, slice, options, checkFinite: !inputsChecked, raw, "merge", progress, cancellationToken, (ctx, _) =>
        {
            var merged = ctx.OutputArray.AsSpan(0, ctx.Length);
            ctx.Stash = stash;
            bool finite = false;
            if (!raw) run.Merge(ctx, merged);
            else if (!(finite = run.MergeRaw(ctx, merged)) && checkMerge)
            {
                if (ctx.Ranges is { } ranges) ranges.CheckInputs(ctx);
                else NonFiniteInputs.CheckAll(family, plan, ctx);
            }
            NonFiniteInputs.Keep(ctx, merged);
            var dtype = options.OutputDType ?? ctx.Info.DType;
            if (!options.AllowNonFinite && !(finite && run.MergeRawChecksOutput && float.IsPositiveInfinity(NonFiniteOutputs.Overflow(dtype))))
                NonFiniteOutputs.Check(ctx.Name, merged, ctx.Offset, dtype);
            if (slice > 0)
            {
                sink.WriteModelSlice(ctx.Name, ctx.Offset, merged);
                return;
            }
            sink.WriteModel(ctx.Name, merged);
            if (method.IsPerTask) run.WriteModulators(ctx, merged, sink.Modulators);
            if (!late) MaterializeTasks(family, run, sink, materialize, ctx, merged, options.OutputDType);
        });
        run.EndMerge();
        LateElements.Patch(run.LateElements(), sink, options.MaxThreads, cancellationToken);
        if (run.MergeAgain)
        {
            Passes();
            ForEachItem(family, plan, run, parameters, items, slice, options, checkFinite: false, raw: false, "merge again", progress, cancellationToken, (ctx, _) =>
            {
                var merged = ctx.OutputArray.AsSpan(0, ctx.Length);
                run.Merge(ctx, merged);
                NonFiniteInputs.Keep(ctx, merged);
                if (!options.AllowNonFinite) NonFiniteOutputs.Check(ctx.Name, merged, ctx.Offset, options.OutputDType ?? ctx.Info.DType);
                sink.RewriteModelSlice(ctx.Name, ctx.Offset, merged);
            });
        }
        foreach (var (entry, values) in run.GlobalModulators()) sink.Modulators.WriteFloat32(entry.Name, values);
        if (late)
            ForEachItem(family, plan, run, parameters, items, slice, options, checkFinite: false, raw: false, "materialize", progress, cancellationToken,
                (ctx, _) => { ctx.Stash = stash; MaterializeTasks(family, run, sink, materialize, ctx, [], options.OutputDType); }, baseOnly: true);

        var notes = new Dictionary<string, string>(run.Notes(), StringComparer.Ordinal);
        foreach (var (key, warning) in StructuralRules.Warnings(family, parameters, plan)) notes[key] = warning;
        var summary = new MergeSummary(method, parameters, family.TaskNames, notes, family.MergedParameterCount);
        sink.Complete(summary);
        return summary;
    }

    /// <summary>Writes the tasks of <paramref name="materialize"/> for the context's tensor (after its merge, or from θ0 alone when the run materializes after the merge pass).</summary>
    private static void MaterializeTasks(ModelFamily family, MergeRun run, IMergeSink sink, int[] materialize, MergeTensorContext ctx, ReadOnlySpan<float> merged, DType? outputDType)
    {
        if (materialize.Length == 0) return;
        float[] taskArr = BufferPool<float>.Shared.Rent(ctx.Length);
        try
        {
            foreach (int ti in materialize)
            {
                var dst = taskArr.AsSpan(0, ctx.Length);
                run.MaterializeTask(ctx, merged, ti, dst);
                NonFiniteInputs.Keep(ctx, dst);
                if (!ctx.Plan.AllowNonFinite) NonFiniteOutputs.Check(ctx.Name, dst, ctx.Offset, outputDType ?? ctx.Info.DType, $"task '{family.TaskNames[ti]}'");
                sink.WriteTask(family.TaskNames[ti], ctx.Name, dst);
            }
        }
        finally { BufferPool<float>.Shared.Return(taskArr); }
    }

    private static MergeLayout Layout(ModelFamily family, MergeRun run, MergeMethod method, MergeExecutionOptions options)
    {
        var model = new List<TensorEntry>();
        foreach (var info in family.Base.Tensors)
        {
            if (family.Heads.IsHead(info.Name)) continue;
            var dtype = info.DType.IsFloatingPoint() ? options.OutputDType ?? info.DType : info.DType;
            model.Add(new TensorEntry(info.Name, dtype, info.Shape));
        }
        var heads = family.TaskHeads.ToDictionary(kv => kv.Key,
            kv => (IReadOnlyList<TensorEntry>)kv.Value.Select(h => new TensorEntry(h.Name, h.DType, h.Shape)).ToList(), StringComparer.Ordinal);
        var modulators = new List<TensorEntry>();
        if (method.IsPerTask)
        {
            modulators.AddRange(run.GlobalModulators().Select(g => g.Entry));
            foreach (var info in family.MergedTensors) modulators.AddRange(run.ModulatorsFor(info));
        }
        return new MergeLayout(model, heads, modulators, options.Materialize);
    }

    private static void CopyRaw(ModelFamily family, IMergeSink sink, MergeExecutionOptions options)
    {
        foreach (var info in family.CopiedTensors)
        {
            var bytes = ReadRaw(family.Base, info);
            if (!options.AllowNonFinite) NonFiniteInputs.CheckRaw(family.Base, info, bytes);
            sink.WriteModelRaw(info.Name, bytes);
            foreach (var task in options.Materialize) sink.WriteTaskRaw(task, info.Name, bytes);
        }
        foreach (var task in family.Tasks)
            foreach (var head in family.TaskHeads[task.Name])
            {
                var bytes = ReadRaw(task.Reader, head);
                if (!options.AllowNonFinite) NonFiniteInputs.CheckRaw(task.Reader, head, bytes);
                sink.WriteHeadRaw(task.Name, head.Name, bytes);
                if (options.Materialize.Contains(task.Name)) sink.WriteTaskRaw(task.Name, head.Name, bytes);
            }
    }

    private static byte[] ReadRaw(ICheckpointReader reader, TensorInfo info)
    {
        var bytes = new byte[info.ByteLength];
        reader.ReadRaw(info, bytes);
        return bytes;
    }

    /// <summary>
    /// Runs <paramref name="body"/> on every item with up to <see cref="MergeExecutionOptions.MaxThreads"/> workers. Each
    /// item's θ0 and θt (τt = θt − θ0 when the run uses task vectors) are read by position into the context first,
    /// checked for non-finite values while in cache, and <see cref="MergeRun.Prepare"/> applied; with
    /// <paramref name="raw"/> the buffers stay raw θt, unchecked, for <see cref="MergeRun.MergeRaw"/>. Whole tensors rent pooled
    /// buffers of the largest item's length once per worker; slices reuse one set of slice buffers per worker for the whole
    /// stage, so θ0, θ1…θT and the output of a slice stay in the core's L2 cache. With <paramref name="baseOnly"/> only θ0 is
    /// read (tasks materialized after the merge pass).
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068", Justification = "the per-item body comes last so that each call site reads as a loop over the items")]
    private static void ForEachItem(ModelFamily family, MergePlan plan, MergeRun run, MergeParameters parameters, List<MergeWorkItem> items, int slice,
        MergeExecutionOptions options, bool checkFinite, bool raw, string stage, IProgress<MergeProgress>? progress, CancellationToken ct,
        Action<MergeTensorContext, int> body, bool baseOnly = false)
    {
        int next = -1;
        long done = 0;
        int threads = run.ParallelWithinTensor ? 1 : Math.Clamp(options.MaxThreads, 1, Math.Max(1, items.Count));
        int largest = items.Count == 0 ? 0 : items.Max(i => i.Length);
        bool check = checkFinite && !options.AllowNonFinite;
        // Runs reading their own ranges get cache-sized input buffers and whole-tensor scratch and output.
        var ranges = (baseOnly ? run.ReadsRangesAfterMerge : raw && run.ReadsRanges) && slice == 0 && TensorRangeReader.Supported(family)
            ? new TensorRangeReader(family, options.AllowNonFinite) : null;
        bool byAddress = raw && run.MergesRawInPlace && slice > 0 && ranges is null && !baseOnly;
        progress?.Report(new MergeProgress(stage, 0, items.Count));
        Exception? failure = null;
        void Worker()
        {
            var ctx = new MergeTensorContext(plan.TaskCount) { Plan = plan, Parameters = parameters, MaxThreads = Math.Max(1, options.MaxThreads) };
            bool sum = run.UsesOnlyTaskSum;
            // Everything a worker does sits inside the try: an exception on a worker thread of its own would end the process
            // instead of reaching the caller.
            try
            {
                if (sum && (slice > 0 || raw || run.PassCount > 0)) throw new InvalidOperationException($"{run.GetType().Name}: a task-sum run must be whole-tensor, not raw and without passes.");
                // One set of buffers per worker for the whole stage: a slice each, or the largest item's length. Renting per
                // item would draw every size class of the pool in turn (each a new set of T + 3 arrays, all kept pooled).
                Rent(ctx, slice > 0 ? slice : largest, taskBuffers: baseOnly ? 0 : sum ? 1 : ctx.TaskArrays.Length,
                    inputs: ranges is null ? 0 : Math.Min(largest, TensorRangeReader.RangeElements));
                ctx.Ranges = ranges;
                while (failure is null)
                {
                    ct.ThrowIfCancellationRequested();
                    int k = Interlocked.Increment(ref next);
                    if (k >= items.Count) break;
                    var item = items[k];
                    if (ranges is not null) Describe(plan, ctx, item);
                    else if (byAddress) LoadByAddress(family, plan, ctx, item, options.AllowNonFinite);
                    else Load(family, plan, ctx, item, check && !raw, subtract: run.UsesTaskVectors && !raw, options.AllowNonFinite, sum ? run : null, baseOnly,
                        taskThreads: threads == 1 ? ctx.MaxThreads : 1);
                    if (!raw && !baseOnly)
                    {
                        // Statistics across elements (a tensor's SVD, norms, ranks, a row's divergence) must not see NaN
                        // or infinity: under allow_nonfinite the position counts as τ = 0 there (in a task-sum run's sum
                        // too), and Keep marks it after.
                        if (options.AllowNonFinite && !run.IsElementwise) NonFiniteInputs.ZeroInputs(ctx, run.UsesTaskVectors, sum);
                        if (!sum) run.Prepare(ctx);
                    }
                    body(ctx, k);
                    progress?.Report(new MergeProgress(stage, Interlocked.Increment(ref done), items.Count));
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, e, null);
            }
            finally
            {
                Release(ctx);
            }
        }
        if (threads == 1) Worker();
        else
        {
            var workers = Enumerable.Range(0, threads).Select(_ => new Thread(Worker) { IsBackground = true }).ToList();
            foreach (var w in workers) w.Start();
            foreach (var w in workers) w.Join();
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
    }
}
