using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetMerge.MLNet;

/// <summary>
/// An <see cref="IDataView"/> over arrays the caller already holds (no copy, no per-row allocation): fixed-width float
/// and int64 vectors, text, and class labels as keys. Built with <see cref="ArrayDataViewBuilder"/>, which checks that
/// every column has the same number of rows. Shuffling is not supported (ML.NET shuffles through a cache when it must).
/// </summary>
internal sealed class ArrayDataView : IDataView
{
    private readonly ArrayColumn[] _columns;

    internal ArrayDataView(IReadOnlyList<ArrayColumn> columns, int rows)
    {
        _columns = [.. columns];
        RowCount = rows;
        var builder = new DataViewSchema.Builder();
        foreach (var c in _columns) builder.AddColumn(c.Name, c.Type, c.Annotations);
        Schema = builder.ToSchema();
    }

    /// <summary>Number of rows.</summary>
    public int RowCount { get; }

    /// <inheritdoc/>
    public bool CanShuffle => false;

    /// <inheritdoc/>
    public DataViewSchema Schema { get; }

    /// <inheritdoc/>
    public long? GetRowCount() => RowCount;

    /// <inheritdoc/>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded.Select(c => c.Index));

    /// <inheritdoc/>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    /// <summary>Walks the rows in order; a getter reads the row the cursor is on.</summary>
    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ArrayDataView _view;
        private readonly bool[] _active;
        private readonly Func<long> _position;
        private long _row = -1;

        public Cursor(ArrayDataView view, IEnumerable<int> active)
        {
            _view = view;
            _active = new bool[view._columns.Length];
            foreach (int i in active) _active[i] = true;
            _position = () => _row >= 0 && _row < _view.RowCount ? _row
                : throw new InvalidOperationException("the cursor is not on a row (call MoveNext first).");
        }

        public override long Position => _row;

        public override long Batch => 0;

        public override DataViewSchema Schema => _view.Schema;

        public override bool MoveNext()
        {
            if (_row >= _view.RowCount) return false;
            _row++;
            return _row < _view.RowCount;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_active[column.Index]) throw new InvalidOperationException($"column '{column.Name}' was not requested when the cursor was created.");
            return _view._columns[column.Index].MakeGetter<TValue>(_position);
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position(), 0);
    }
}
