using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.PyTorch;

// The inert values the restricted unpickler builds. Python values map to:
//   None → null, bool → bool, int → long (or BigInteger beyond 64 bits), float → double, str → string,
//   bytes/bytearray → byte[], list → List<object?>, tuple → PickleTuple, dict → PickleDict, set/frozenset → PickleSet,
//   a global reference → PickleGlobal, an instance of any other class → PickleObject,
//   a torch storage → TorchStorageRef, a rebuilt tensor or parameter → TorchTensorRef.
// Nothing here runs code: a PickleGlobal is only a (module, name) pair.

/// <summary>A reference to a Python global by module and name, e.g. <c>torch._utils._rebuild_tensor_v2</c>; never resolved or imported.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    /// <summary>The dotted name, e.g. <c>posix.system</c>.</summary>
    public string FullName => Module + "." + Name;

    /// <inheritdoc/>
    public override string ToString() => FullName;
}

/// <summary>A Python tuple (kept apart from lists so that arguments and storage ids can be recognised).</summary>
internal sealed class PickleTuple(object?[] items)
{
    /// <summary>The elements.</summary>
    public object?[] Items { get; } = items;

    /// <summary>An empty tuple.</summary>
    public static readonly PickleTuple Empty = new([]);
}

/// <summary>A Python dict or OrderedDict: key/value pairs in insertion order; a later SETITEM on an equal key replaces the value in place.</summary>
internal sealed class PickleDict
{
    private readonly List<KeyValuePair<object?, object?>> _items = [];
    private readonly Dictionary<string, int> _stringIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<long, int> _integerIndex = new();

    /// <summary>The pairs in insertion order.</summary>
    public IReadOnlyList<KeyValuePair<object?, object?>> Items => _items;

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>, keeping the first insertion's position.</summary>
    public void Set(object? key, object? value)
    {
        if (key is string s)
        {
            if (_stringIndex.TryGetValue(s, out int at)) { _items[at] = new(key, value); return; }
            _stringIndex[s] = _items.Count;
        }
        else if (key is long or bool)
        {
            long k = key is bool b ? (b ? 1 : 0) : (long)key; // Python: True == 1, False == 0 as dict keys
            if (_integerIndex.TryGetValue(k, out int at)) { _items[at] = new(_items[at].Key, value); return; }
            _integerIndex[k] = _items.Count;
        }
        _items.Add(new(key, value));
    }

    /// <summary>Looks up a string key.</summary>
    public bool TryGet(string key, out object? value)
    {
        if (_stringIndex.TryGetValue(key, out int at)) { value = _items[at].Value; return true; }
        value = null;
        return false;
    }
}

/// <summary>A Python set or frozenset.</summary>
internal sealed class PickleSet
{
    /// <summary>The elements in the order they were added.</summary>
    public List<object?> Items { get; } = [];
}

/// <summary>
/// An inert stand-in for an instance of a class the reader does not interpret (e.g. <c>torch.nn.modules.linear.Linear</c>):
/// the class reference, the constructor arguments and the state BUILD would have set. Nothing of the class runs.
/// </summary>
internal sealed class PickleObject(PickleGlobal type, object?[] args)
{
    /// <summary>The class the object claims to be.</summary>
    public PickleGlobal Type { get; } = type;

    /// <summary>Arguments given to NEWOBJ / NEWOBJ_EX / copyreg._reconstructor.</summary>
    public object?[] Args { get; } = args;

    /// <summary>The object's <c>__dict__</c> after BUILD (a dict state is merged in; slot state goes to <see cref="SlotState"/>).</summary>
    public PickleDict State { get; } = new();

    /// <summary>Any non-dict state or slot state BUILD received.</summary>
    public object? SlotState { get; set; }
}

/// <summary>A torch storage named by a persistent id <c>('storage', storage_type, key, location, numel)</c>; its bytes are the zip entry <c>data/&lt;key&gt;</c>.</summary>
/// <param name="Key">The storage's key, the name of its zip entry under <c>data/</c>.</param>
/// <param name="DType">The element type from the storage type.</param>
/// <param name="ElementCount">The storage's length in elements.</param>
/// <param name="Location">The device it was saved from (e.g. <c>cpu</c>, <c>cuda:0</c>); informational only.</param>
internal sealed record TorchStorageRef(string Key, DType DType, long ElementCount, string Location);

/// <summary>A tensor rebuilt from a storage by <c>_rebuild_tensor_v2</c>: which storage, where in it, and how it is laid out.</summary>
/// <param name="Storage">The backing storage.</param>
/// <param name="StorageOffset">Offset of the first element, in elements.</param>
/// <param name="Shape">Dimensions, outermost first; empty for a scalar.</param>
/// <param name="Strides">Element strides per dimension.</param>
internal sealed record TorchTensorRef(TorchStorageRef Storage, long StorageOffset, int[] Shape, long[] Strides);

/// <summary>
/// A tensor rebuild the reader refused (bad size, stride, offset or dtype). It is kept in the pickle's value until the
/// state dict is flattened, so that the error names the tensor the file gives it, not only its storage.
/// </summary>
/// <param name="Problem">What was wrong, as the error will say it.</param>
internal sealed record TorchTensorDefect(string Problem);
