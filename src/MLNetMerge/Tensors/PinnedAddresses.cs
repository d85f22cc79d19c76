using System.Runtime.InteropServices;

namespace MLNetMerge.Tensors;

/// <summary>
/// The first-element addresses of float arrays, each pinned until <see cref="Dispose"/>: how arrays reach the kernels that
/// take their inputs by address, the same kernels that read a checkpoint's slices in place from its mapping.
/// </summary>
internal readonly struct PinnedAddresses : IDisposable
{
    private readonly GCHandle[] _pins;

    /// <summary>Pins the first <paramref name="count"/> of <paramref name="arrays"/>.</summary>
    public PinnedAddresses(float[][] arrays, int count)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        if (count < 0 || count > arrays.Length) throw new ArgumentOutOfRangeException(nameof(count), $"{count} of {arrays.Length} arrays.");
        _pins = new GCHandle[count];
        Addresses = new nint[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                _pins[i] = GCHandle.Alloc(arrays[i], GCHandleType.Pinned);
                Addresses[i] = _pins[i].AddrOfPinnedObject();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>(count) each array's first element, valid until <see cref="Dispose"/>.</summary>
    public nint[] Addresses { get; }

    /// <summary>Unpins every array.</summary>
    public void Dispose()
    {
        foreach (var pin in _pins ?? [])
            if (pin.IsAllocated) pin.Free();
    }
}
