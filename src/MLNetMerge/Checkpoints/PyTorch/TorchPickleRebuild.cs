namespace MLNetMerge.Checkpoints.PyTorch;

/// <summary>
/// The allow-list behind <see cref="RestrictedUnpickler"/>: interprets, in this code, the few callables a
/// <c>torch.save</c> pickle REDUCEs (tensor and parameter rebuilds, OrderedDict, set, torch.Size,
/// copyreg._reconstructor), turns persistent ids into <see cref="TorchStorageRef"/>s, and builds inert
/// <see cref="PickleObject"/> records for NEWOBJ of any class. Any other callable is rejected, naming the global.
/// </summary>
internal sealed class TorchPickleRebuild(string path)
{
    private readonly Dictionary<string, TorchStorageRef> _storages = new(StringComparer.Ordinal);
    private readonly List<TorchTensorDefect> _defects = [];

    /// <summary>Every storage the pickle referenced, by key.</summary>
    public IReadOnlyDictionary<string, TorchStorageRef> Storages => _storages;

    /// <summary>Every tensor rebuild that was refused, in pickle order (the flattener names those it reaches).</summary>
    public IReadOnlyList<TorchTensorDefect> Defects => _defects;

    /// <summary>The functions REDUCE may call (interpreted here, never imported).</summary>
    public static readonly IReadOnlyList<string> AllowedCallables =
    [
        "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
        "torch._tensor._rebuild_from_type_v2", "torch._tensor._rebuild_from_type",
        "collections.OrderedDict", "builtins.set", "builtins.frozenset", "__builtin__.set", "__builtin__.frozenset",
        "torch.Size", "copyreg._reconstructor", "copy_reg._reconstructor",
    ];

    /// <summary>REDUCE: applies an allow-listed callable to <paramref name="args"/>; anything else is a <see cref="CheckpointFormatException"/>.</summary>
    public object? Reduce(object? callable, PickleTuple args, string where)
    {
        if (callable is not PickleGlobal g)
            throw Fail(where, $"REDUCE calls a {RestrictedUnpickler.Describe(callable)}; only allow-listed globals may be called.");
        object?[] a = args.Items;
        switch (g.FullName)
        {
            case "torch._utils._rebuild_tensor_v2":
                // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                if (a.Length is < 4 or > 7) throw Fail(where, $"{g.FullName} takes 4 to 7 arguments, got {a.Length}.");
                return Rebuild(() => RebuildTensor(a), where);
            case "torch._utils._rebuild_tensor":
                // _rebuild_tensor(storage, storage_offset, size, stride)
                if (a.Length != 4) throw Fail(where, $"{g.FullName} takes 4 arguments, got {a.Length}.");
                return Rebuild(() => RebuildTensor(a), where);
            case "torch._utils._rebuild_tensor_v3":
                // _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype[, metadata]):
                // the storage is read as `dtype` (its bytes reinterpreted when it is untyped); offset and strides count dtype elements.
                if (a.Length is < 7 or > 8) throw Fail(where, $"{g.FullName} takes 7 or 8 arguments, got {a.Length}.");
                return Rebuild(() => RebuildTensor([Retyped(a[0], a[6]), .. a[1..]]), where);
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                // _rebuild_parameter(data, requires_grad, backward_hooks[, state]) → the data tensor itself
                if (a.Length is < 3 or > 4 || a[0] is not (TorchTensorRef or TorchTensorDefect))
                    throw Fail(where, $"{g.FullName} expects (tensor, requires_grad, backward_hooks[, state]).");
                return a[0];
            case "torch._tensor._rebuild_from_type_v2":
            case "torch._tensor._rebuild_from_type":
                // _rebuild_from_type_v2(func, new_type, args, state) → func(*args); func passes the same allow-list
                if (a.Length != 4 || a[2] is not PickleTuple inner)
                    throw Fail(where, $"{g.FullName} expects (func, type, args, state).");
                return Reduce(a[0], inner, where);
            case "collections.OrderedDict":
                {
                    var dict = new PickleDict();
                    if (a.Length == 1 && a[0] is List<object?> pairs)
                        foreach (object? pair in pairs)
                            if (pair is PickleTuple { Items.Length: 2 } kv) dict.Set(kv.Items[0], kv.Items[1]);
                            else throw Fail(where, "OrderedDict argument must be a list of (key, value) pairs.");
                    else if (a.Length != 0) throw Fail(where, "OrderedDict takes no argument or a list of pairs.");
                    return dict;
                }
            case "builtins.set" or "builtins.frozenset" or "__builtin__.set" or "__builtin__.frozenset":
                {
                    var set = new PickleSet();
                    if (a.Length == 1 && a[0] is List<object?> items) set.Items.AddRange(items);
                    else if (a.Length == 1 && a[0] is PickleTuple t) set.Items.AddRange(t.Items);
                    else if (a.Length != 0) throw Fail(where, $"{g.FullName} takes no argument or a list.");
                    return set;
                }
            case "torch.Size":
                if (a.Length == 1 && a[0] is PickleTuple dims) return dims;
                if (a.Length == 1 && a[0] is List<object?> list) return new PickleTuple([.. list]);
                throw Fail(where, "torch.Size takes one tuple of dimensions.");
            case "copyreg._reconstructor" or "copy_reg._reconstructor":
                // _reconstructor(cls, base, state): base.__new__(cls, state), done inertly
                if (a.Length != 3) throw Fail(where, $"{g.FullName} takes 3 arguments, got {a.Length}.");
                return NewObject(a[0], a[2] is null ? [] : [a[2]], where);
            default:
                throw Fail(where, $"pickle calls the forbidden global '{g.FullName}'. Only tensor-rebuild functions are allowed " +
                    "(torch._utils._rebuild_tensor_v2, _rebuild_parameter, collections.OrderedDict, …); the file may be malicious. Nothing was executed.");
        }
    }

    /// <summary>NEWOBJ: <c>cls.__new__(cls, *args)</c> for the containers this reader models, an inert <see cref="PickleObject"/> for any other class.</summary>
    public object? NewObject(object? cls, object?[] args, string where)
    {
        if (cls is not PickleGlobal g) throw Fail(where, $"NEWOBJ on a {RestrictedUnpickler.Describe(cls)}, not a class.");
        return g.FullName switch
        {
            "collections.OrderedDict" or "builtins.dict" or "__builtin__.dict" => new PickleDict(),
            "builtins.set" or "__builtin__.set" => new PickleSet(),
            "builtins.list" or "__builtin__.list" => new List<object?>(),
            _ => new PickleObject(g, args),
        };
    }

    /// <summary>BUILD: merges dict state into a <see cref="PickleObject"/>'s <c>__dict__</c> (slot or other state is kept aside); state of anything else is ignored.</summary>
    public static void Build(object? target, object? state)
    {
        if (target is not PickleObject obj) return;
        object? dictState = state;
        if (state is PickleTuple { Items.Length: 2 } pair)
        {
            dictState = pair.Items[0];
            obj.SlotState = pair.Items[1];
        }
        if (dictState is PickleDict d)
            foreach (var kv in d.Items) obj.State.Set(kv.Key, kv.Value);
        else if (dictState is not null)
            obj.SlotState = dictState;
    }

    /// <summary>
    /// BINPERSID: <c>('storage', storage_type, key, location, numel)</c> → the storage (one object per key).
    /// The legacy format adds a sixth item, view metadata, which must be None; its <c>('module', cls, file, source)</c>
    /// ids stand for a module class and yield the class reference.
    /// </summary>
    public object? PersistentLoad(object? pid, string where)
    {
        if (pid is PickleTuple { Items: ["module", PickleGlobal moduleClass, ..] })
            return moduleClass;
        if (pid is PickleTuple { Items: ["storage", _, _, _, _, not null] })
            throw Fail(where, "legacy storage views (view metadata in the persistent id, PyTorch < 0.4) are not supported.");
        if (pid is not PickleTuple { Items.Length: 5 or 6 } t || t.Items[0] is not "storage")
            throw Fail(where, $"persistent id must be ('storage', type, key, location, numel), found a {RestrictedUnpickler.Describe(pid)}.");
        if (t.Items[1] is not PickleGlobal type)
            throw Fail(where, $"storage type must be a global, found a {RestrictedUnpickler.Describe(t.Items[1])}.");
        if (!TorchStorageTypes.TryGetDType(type, out var dtype))
            throw Fail(where, $"storage type '{type.FullName}' is not supported (expected torch.FloatStorage, HalfStorage, BFloat16Storage, DoubleStorage, LongStorage, IntStorage, ShortStorage, CharStorage, ByteStorage, BoolStorage or UntypedStorage).");
        string key = t.Items[2] switch
        {
            string s => s,
            long n => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => throw Fail(where, "storage key must be a string."),
        };
        if (key.Length == 0 || key.Contains('/') || key.Contains('\\') || key.Contains(".."))
            throw Fail(where, $"storage key '{key}' is not a plain entry name.");
        string location = t.Items[3] as string ?? "";
        if (t.Items[4] is not long numel || numel < 0)
            throw Fail(where, $"storage '{key}' has an invalid element count.");
        var storage = new TorchStorageRef(key, dtype, numel, location);
        if (_storages.TryGetValue(key, out var seen))
        {
            if (seen.DType != dtype || seen.ElementCount != numel)
                throw Fail(where, $"storage '{key}' is referenced as {seen.DType}×{seen.ElementCount} and as {dtype}×{numel}.");
            return seen;
        }
        _storages[key] = storage;
        return storage;
    }

    /// <summary>The storage seen as elements of the dtype global <paramref name="dtypeGlobal"/>: an untyped (byte) storage is reinterpreted, a typed one must agree.</summary>
    private static TorchStorageRef Retyped(object? storageValue, object? dtypeGlobal)
    {
        if (storageValue is not TorchStorageRef storage) throw Defect($"tensor rebuild expects a storage first, found a {RestrictedUnpickler.Describe(storageValue)}.");
        if (dtypeGlobal is not PickleGlobal g || !TorchStorageTypes.TryGetDType(g, out var dtype))
            throw Defect($"tensor dtype {RestrictedUnpickler.Describe(dtypeGlobal)} is not supported.");
        if (storage.DType == dtype) return storage;
        if (storage.DType != Tensors.DType.U8)
            throw Defect($"storage '{storage.Key}' holds {storage.DType} but the tensor is {dtype}.");
        int size = Tensors.DTypes.SizeOf(dtype);
        if (storage.ElementCount % size != 0)
            throw Defect($"storage '{storage.Key}' has {storage.ElementCount} bytes, not a whole number of {dtype} elements.");
        return storage with { DType = dtype, ElementCount = storage.ElementCount / size };
    }

    /// <summary>(storage, storage_offset, size, stride, …) → a tensor view; shape and strides are checked here, bounds against the storage by the reader.</summary>
    private static TorchTensorRef RebuildTensor(object?[] a)
    {
        if (a[0] is not TorchStorageRef storage) throw Defect($"tensor rebuild expects a storage first, found a {RestrictedUnpickler.Describe(a[0])}.");
        if (a[1] is not long offset || offset < 0) throw Defect($"tensor on storage '{storage.Key}' has an invalid storage offset.");
        long[] size = Ints(a[2], "size");
        long[] stride = Ints(a[3], "stride");
        if (size.Length != stride.Length) throw Defect($"tensor on storage '{storage.Key}' has {size.Length} dimensions but {stride.Length} strides.");
        var shape = new int[size.Length];
        for (int i = 0; i < size.Length; i++)
        {
            if (size[i] < 0 || size[i] > int.MaxValue) throw Defect($"tensor on storage '{storage.Key}' has invalid dimension {size[i]}.");
            if (stride[i] < 0) throw Defect($"tensor on storage '{storage.Key}' has negative stride {stride[i]}.");
            shape[i] = (int)size[i];
        }
        return new TorchTensorRef(storage, offset, shape, stride);
    }

    private static long[] Ints(object? value, string what)
    {
        object?[] items = value switch
        {
            PickleTuple t => t.Items,
            List<object?> l => [.. l],
            _ => throw Defect($"tensor {what} must be a tuple of integers, found a {RestrictedUnpickler.Describe(value)}."),
        };
        var result = new long[items.Length];
        for (int i = 0; i < items.Length; i++)
            result[i] = items[i] is long v ? v : throw Defect($"tensor {what} holds a non-integer.");
        return result;
    }

    /// <summary>Runs a tensor rebuild; a refused one becomes a <see cref="TorchTensorDefect"/> that the state-dict flattener reports under the tensor's name.</summary>
    private object Rebuild(Func<TorchTensorRef> rebuild, string where)
    {
        try { return rebuild(); }
        catch (DefectException e)
        {
            var defect = new TorchTensorDefect($"{where}: {e.Message}");
            _defects.Add(defect);
            return defect;
        }
    }

    private static DefectException Defect(string message) => new(message);

    /// <summary>A refused tensor rebuild, caught by <see cref="Rebuild"/>; never leaves this class.</summary>
    private sealed class DefectException(string message) : Exception(message);

    private CheckpointFormatException Fail(string where, string message) => new(path, null, $"{where}: {message}");
}
