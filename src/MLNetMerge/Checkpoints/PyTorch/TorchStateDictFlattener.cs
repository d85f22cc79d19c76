using System.Globalization;

namespace MLNetMerge.Checkpoints.PyTorch;

/// <summary>
/// Turns the value a torch pickle leaves into state-dict names: nested dicts are joined with dots
/// (<c>{"model": {"fc.weight": t}}</c> → <c>model.fc.weight</c>), lists by index, and a pickled <c>nn.Module</c>
/// record is walked the way <c>Module.state_dict()</c> walks it: <c>_parameters</c>, then persistent <c>_buffers</c>,
/// then <c>_modules</c> recursively (<c>0.weight</c>, <c>encoder.fc1.bias</c>). Scalars (str, int, float, bool) become
/// metadata; anything else is ignored. Cycles and excessive nesting are rejected.
/// </summary>
internal sealed class TorchStateDictFlattener
{
    private const int MaxDepth = 256;
    private readonly string _path;
    private readonly List<(string Name, TorchTensorRef Tensor)> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);
    private readonly HashSet<object> _onPath = new(ReferenceEqualityComparer.Instance);

    private TorchStateDictFlattener(string path) => _path = path;

    /// <summary>Flattens <paramref name="root"/>; returns the tensors in pickle order and the scalar entries.</summary>
    /// <exception cref="CheckpointFormatException">Two tensors get the same name, or the structure is cyclic or too deep.</exception>
    public static (List<(string Name, TorchTensorRef Tensor)> Tensors, Dictionary<string, string> Metadata) Flatten(object? root, string path)
    {
        var f = new TorchStateDictFlattener(path);
        if (root is TorchTensorRef or TorchTensorDefect) f.Walk(root, "tensor", 0);
        else f.Walk(root, "", 0);
        return (f._tensors, f._metadata);
    }

    private void Walk(object? value, string prefix, int depth)
    {
        switch (value)
        {
            case TorchTensorRef t:
                AddTensor(prefix, t);
                return;
            case TorchTensorDefect defect:
                throw new CheckpointFormatException(_path, prefix.Length > 0 ? prefix : "tensor", defect.Problem);
            case string or long or double or bool or System.Numerics.BigInteger:
                if (prefix.Length > 0) _metadata[prefix] = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
                return;
            case PickleDict or List<object?> or PickleTuple or PickleObject:
                break;
            default:
                return;
        }
        if (depth > MaxDepth) throw new CheckpointFormatException(_path, prefix, $"checkpoint nests deeper than {MaxDepth} levels.");
        if (!_onPath.Add(value)) throw new CheckpointFormatException(_path, prefix, "checkpoint structure contains a cycle.");
        switch (value)
        {
            case PickleDict d:
                foreach (var kv in d.Items)
                    if (KeyText(kv.Key) is { } key) Walk(kv.Value, Join(prefix, key), depth + 1);
                break;
            case List<object?> list:
                for (int i = 0; i < list.Count; i++) Walk(list[i], Join(prefix, i.ToString(CultureInfo.InvariantCulture)), depth + 1);
                break;
            case PickleTuple tuple:
                for (int i = 0; i < tuple.Items.Length; i++) Walk(tuple.Items[i], Join(prefix, i.ToString(CultureInfo.InvariantCulture)), depth + 1);
                break;
            case PickleObject obj when IsModule(obj):
                WalkModule(obj, prefix, depth);
                break;
        }
        _onPath.Remove(value);
    }

    /// <summary>A record is treated as an <c>nn.Module</c> when its state has <c>_parameters</c> or <c>_modules</c> dicts.</summary>
    private static bool IsModule(PickleObject obj)
        => (obj.State.TryGet("_parameters", out var p) && p is PickleDict) || (obj.State.TryGet("_modules", out var m) && m is PickleDict);

    /// <summary><c>Module.state_dict()</c> order: own parameters, own persistent buffers, then each child module.</summary>
    private void WalkModule(PickleObject module, string prefix, int depth)
    {
        if (module.State.TryGet("_parameters", out var p) && p is PickleDict parameters)
            foreach (var kv in parameters.Items)
                if (kv.Key is string name && kv.Value is TorchTensorRef or TorchTensorDefect) Walk(kv.Value, Join(prefix, name), depth + 1);

        HashSet<string> nonPersistent = new(StringComparer.Ordinal);
        if (module.State.TryGet("_non_persistent_buffers_set", out var np) && np is PickleSet set)
            foreach (object? item in set.Items)
                if (item is string s) nonPersistent.Add(s);
        if (module.State.TryGet("_buffers", out var b) && b is PickleDict buffers)
            foreach (var kv in buffers.Items)
                if (kv.Key is string name && kv.Value is TorchTensorRef or TorchTensorDefect && !nonPersistent.Contains(name)) Walk(kv.Value, Join(prefix, name), depth + 1);

        if (module.State.TryGet("_modules", out var m) && m is PickleDict children)
            foreach (var kv in children.Items)
                if (kv.Key is string name && kv.Value is PickleObject child && IsModule(child))
                {
                    if (depth + 1 > MaxDepth) throw new CheckpointFormatException(_path, prefix, $"modules nest deeper than {MaxDepth} levels.");
                    if (!_onPath.Add(child)) throw new CheckpointFormatException(_path, prefix, "module tree contains a cycle.");
                    WalkModule(child, Join(prefix, name), depth + 1);
                    _onPath.Remove(child);
                }
    }

    private void AddTensor(string name, TorchTensorRef tensor)
    {
        if (!_names.Add(name)) throw new CheckpointFormatException(_path, name, "two tensors flatten to the same name.");
        _tensors.Add((name, tensor));
    }

    private static string? KeyText(object? key) => key switch
    {
        string s => s,
        long n => n.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };

    private static string Join(string prefix, string key) => prefix.Length == 0 ? key : prefix + "." + key;
}
