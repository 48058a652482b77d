namespace RlhfCore.Data;

/// <summary>
/// An endless stream of item indices 0..count-1, epoch after epoch, each epoch in its own seeded
/// permutation. The permutation is the <see cref="Shuffle"/> driven by <see cref="SplitMix64"/> seeded from
/// (seed, epoch), so it is fixed across .NET versions and machines and can be recomputed from the
/// cursor alone.
/// </summary>
public sealed class ShuffleSampler : IResumableStream
{
    private readonly int _count;
    private readonly ulong _seed;
    private readonly bool _shuffle;
    private int[] _order = [];
    private int _orderEpoch = -1;
    private DataCursor _cursor;

    /// <summary>Creates a sampler over <paramref name="count"/> items; with <paramref name="shuffle"/> false every epoch is in order.</summary>
    public ShuffleSampler(int count, ulong seed, bool shuffle = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _count = count;
        _seed = seed;
        _shuffle = shuffle;
    }

    /// <summary>The position of the next item; set it to resume.</summary>
    public DataCursor Cursor
    {
        get => _cursor;
        set
        {
            if (value.Epoch < 0 || value.Index < 0 || value.Index > _count)
                throw new ArgumentOutOfRangeException(nameof(value), value, $"cursor must have Epoch ≥ 0 and Index in [0, {_count}]");
            _cursor = value;
        }
    }

    /// <summary>The next item index; moves to the next epoch after the last item of one.</summary>
    public int Next()
    {
        if (_cursor.Index == _count) _cursor = new DataCursor(_cursor.Epoch + 1, 0);
        if (_orderEpoch != _cursor.Epoch)
        {
            // Refilled in place: a new epoch inside a training step must not allocate.
            if (_order.Length != _count) _order = new int[_count];
            Fill(_order, _cursor.Epoch);
            _orderEpoch = _cursor.Epoch;
        }
        int item = _order[_cursor.Index];
        _cursor = _cursor with { Index = _cursor.Index + 1 };
        return item;
    }

    /// <summary>The order of items in <paramref name="epoch"/>.</summary>
    public int[] Permutation(int epoch)
    {
        var order = new int[_count];
        Fill(order, epoch);
        return order;
    }

    private void Fill(int[] order, int epoch)
    {
        for (int i = 0; i < _count; i++) order[i] = i;
        if (!_shuffle) return;
        var source = new SplitMix64(_seed ^ (SplitMix64.Increment * (ulong)(epoch + 1)));
        Shuffle.InPlace(order.AsSpan(), ref source);
    }
}
