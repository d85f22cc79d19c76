namespace MLNetMerge;

/// <summary>Which tensors the per-matrix subspace methods (TSV-M, ISO-C, ISO-CTS, WUDI) merge as matrices; every other
/// tensor gets <c>θ0 + λ·mean τ</c>.</summary>
public enum MatrixSelection
{
    /// <summary>Every 2-D tensor (the papers' code).</summary>
    All2d,
    /// <summary>Only 2-D weights inside numbered blocks, not norms or embeddings (CART's rule).</summary>
    Blocks,
}
