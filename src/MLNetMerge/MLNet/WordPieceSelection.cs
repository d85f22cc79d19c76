namespace MLNetMerge.MLNet;

/// <summary>
/// Step 2 of the savable WordPiece tokenization: from the candidates' ids (id + 1, 0 for a piece the vocabulary lacks,
/// as <c>MapValue</c> gives them) and the unit codes of <see cref="WordPieceCandidates"/>, greedy longest-match-first
/// per word — the first candidate of a start position that exists wins and the next start is its end; a position with
/// none makes the whole word <c>[UNK]</c> — then <c>[CLS] pieces [SEP]</c>, truncated to T − 2 pieces, padded with
/// <c>[PAD]</c> to T, attention mask 1 on real tokens.
/// </summary>
internal static class WordPieceSelection
{
    /// <summary>Fills <paramref name="inputIds"/> and <paramref name="attentionMask"/> (T each).</summary>
    /// <exception cref="InvalidOperationException">The vocabulary lacks one of <c>[CLS] [SEP] [PAD] [UNK]</c>, or the codes do not match the candidates.</exception>
    public static void Select(ReadOnlySpan<int> ids, ReadOnlySpan<int> structure, Span<long> inputIds, Span<long> attentionMask)
    {
        int t = inputIds.Length;
        if (ids.Length < WordPieceCandidates.Specials.Length) throw new InvalidOperationException($"wordpiece ids: {ids.Length} values; at least the {WordPieceCandidates.Specials.Length} special-token ids expected.");
        long cls = Special(ids, 0), sep = Special(ids, 1), pad = Special(ids, 2), unk = Special(ids, 3);
        int budget = t - 2, count = 0, next = WordPieceCandidates.Specials.Length;
        inputIds[count++] = cls;
        var pieces = inputIds[1..];
        int used = 0;
        for (int u = 0; u < structure.Length && used < budget; u++)
        {
            int code = structure[u];
            if (code < 0)
            {
                int fallback = -code - 1, found = ids[next++];
                if (found == 0) continue;                          // not in the vocabulary: its words follow as ordinary units
                pieces[used++] = found - 1;
                for (int k = 0; k < fallback; k++) next += Candidates(structure[++u]);
                continue;
            }
            used = Word(ids, ref next, code, pieces, used, budget, unk);
        }
        count += used;
        inputIds[count++] = sep;
        attentionMask[..count].Fill(1);
        attentionMask[count..].Clear();
        inputIds[count..].Fill(pad);
    }

    /// <summary>Number of candidates a unit code carries.</summary>
    private static int Candidates(int code) => code > 0 ? code * (code + 1) / 2 : 0;

    /// <summary>Greedy longest-match-first over one word's candidate block; appends its pieces (or [UNK]) up to the budget.</summary>
    private static int Word(ReadOnlySpan<int> ids, ref int next, int n, Span<long> pieces, int used, int budget, long unk)
    {
        int block = next;
        next += Candidates(n);
        if (n == 0) return Append(pieces, used, budget, unk);
        int mark = used;
        Span<long> word = n <= 128 ? stackalloc long[n] : new long[n];
        int w = 0, start = 0;
        while (start < n)
        {
            // Candidates of start s begin at block + Σ_{k<s} (n − k) = block + s·n − s(s−1)/2, longest first.
            int first = block + start * n - start * (start - 1) / 2, found = -1, end = n;
            for (; end > start; end--)
            {
                int id = ids[first + (n - end)];
                if (id != 0) { found = id - 1; break; }
            }
            if (found < 0) return Append(pieces, mark, budget, unk);
            word[w++] = found;
            start = end;
        }
        for (int i = 0; i < w && used < budget; i++) pieces[used++] = word[i];
        return used;
    }

    private static int Append(Span<long> pieces, int used, int budget, long id)
    {
        if (used < budget) pieces[used++] = id;
        return used;
    }

    private static long Special(ReadOnlySpan<int> ids, int i) =>
        ids[i] != 0 ? ids[i] - 1 : throw new InvalidOperationException($"the vocabulary has no {WordPieceCandidates.Specials[i]}; the savable WordPiece steps need [CLS], [SEP], [PAD] and [UNK].");
}
