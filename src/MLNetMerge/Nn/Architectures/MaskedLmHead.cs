using System.Numerics;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Losses;

namespace MLNetMerge.Nn.Architectures;

/// <summary>
/// BERT's masked-language-model head (<c>BertOnlyMLMHead</c>) and its loss, llm.c style, on the M hidden rows of the
/// masked positions gathered beforehand:
/// <c>u = h·Wtᵀ + bt</c>, <c>a = act(u)</c>, <c>z = LN(a; γ, β)</c>, <c>logits = z·Eᵀ + bd</c> with <c>E</c> the word
/// embedding table (tied, as in BERT), and <c>L = −(1/M) Σ_m log softmax(logits_m)[target_m]</c>.
/// The head's own parameters live in one flat vector laid out as <see cref="Layout"/>:
/// <c>Wt (C, C)</c>, <c>bt (C)</c>, <c>γ (C)</c>, <c>β (C)</c>, <c>bd (V)</c> — Hugging Face's
/// <c>cls.predictions.transform.dense.{weight,bias}</c>, <c>cls.predictions.transform.LayerNorm.{weight,bias}</c>,
/// <c>cls.predictions.bias</c>.
/// </summary>
internal static class MaskedLmHead
{
    /// <summary>Names and shapes of the head's parameters in their flat order.</summary>
    public static IReadOnlyList<(string Name, int[] Shape)> Layout(int channels, int vocabulary) =>
    [
        ("cls.predictions.transform.dense.weight", [channels, channels]),
        ("cls.predictions.transform.dense.bias", [channels]),
        ("cls.predictions.transform.LayerNorm.weight", [channels]),
        ("cls.predictions.transform.LayerNorm.bias", [channels]),
        ("cls.predictions.bias", [vocabulary]),
    ];

    /// <summary>Length of the flat parameter vector: <c>C² + 3C + V</c>.</summary>
    public static int ParameterCount(int channels, int vocabulary) => channels * channels + 3 * channels + vocabulary;

    /// <summary>Length of the scratch <see cref="Backward{T}"/> needs: <c>M·V + 3·M·C + 2·C</c>.</summary>
    public static int ScratchLength(int rows, int channels, int vocabulary) => rows * vocabulary + 3 * rows * channels + 2 * channels;

    /// <summary>HF initialisation of the head: <c>Wt ~ N(0, 0.02²)</c>, <c>bt = 0</c>, <c>γ = 1</c>, <c>β = 0</c>, <c>bd = 0</c>.</summary>
    public static void Initialize(Span<float> head, int channels, Tensors.SeededRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int c = channels, cc = c * c;
        head.Clear();
        rng.FillGaussian(head[..cc], 0.02f);
        head.Slice(cc + c, c).Fill(1f);
    }

    /// <summary>Forward pass; returns the mean cross-entropy over the M rows.</summary>
    /// <param name="logProbabilities">Cache: log-softmax of the logits (M, V).</param>
    /// <param name="logits">Cache: logits (M, V).</param>
    /// <param name="transformed">Cache: <c>u</c> (M, C).</param>
    /// <param name="activated">Cache: <c>a</c> (M, C).</param>
    /// <param name="normed">Cache: <c>z</c> (M, C).</param>
    /// <param name="mean">Cache: layer-norm means (M).</param>
    /// <param name="rstd">Cache: layer-norm reciprocal deviations (M).</param>
    /// <param name="hidden">Hidden states of the masked positions (M, C).</param>
    /// <param name="targets">Original token ids (M), each in [0, V).</param>
    /// <param name="head">Head parameters (<see cref="ParameterCount"/>).</param>
    /// <param name="wordEmbeddings">Tied decoder weight (V, C).</param>
    /// <param name="rows">M.</param>
    /// <param name="channels">C.</param>
    /// <param name="vocabulary">V.</param>
    /// <param name="activation">The transform's activation (BERT: GELU).</param>
    /// <param name="eps">Layer-norm epsilon.</param>
    public static T Forward<T>(Span<T> logProbabilities, Span<T> logits, Span<T> transformed, Span<T> activated, Span<T> normed,
        Span<T> mean, Span<T> rstd, ReadOnlySpan<T> hidden, ReadOnlySpan<int> targets, ReadOnlySpan<T> head, ReadOnlySpan<T> wordEmbeddings,
        int rows, int channels, int vocabulary, ActivationKind activation, double eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = rows, c = channels, v = vocabulary, mc = m * c, mv = m * v, cc = c * c;
        var wt = head[..cc]; var bt = head.Slice(cc, c); var gamma = head.Slice(cc + c, c); var beta = head.Slice(cc + 2 * c, c); var bd = head.Slice(cc + 3 * c, v);
        var u = transformed[..mc];                                           // (M, C)
        Linear.Forward(u, hidden[..mc], wt, bt, m, c, c);
        var a = activated[..mc];                                             // (M, C)
        Activation.Forward(activation, a, u);
        var z = normed[..mc];                                                // (M, C)
        LayerNorm.Forward(z, mean[..m], rstd[..m], a, gamma, beta, m, c, eps);
        var lg = logits[..mv];                                               // (M, V)
        Linear.Forward(lg, z, wordEmbeddings[..(v * c)], bd, m, c, v);
        return CrossEntropy.Forward(logProbabilities[..mv], lg, targets[..m], m, v);
    }

    /// <summary>Backward pass of the mean loss; adds into <paramref name="dHidden"/>, <paramref name="dHead"/> and <paramref name="dWordEmbeddings"/>.</summary>
    /// <param name="dHidden">∂L/∂hidden (M, C), or empty.</param>
    /// <param name="dHead">∂L/∂head (<see cref="ParameterCount"/>).</param>
    /// <param name="dWordEmbeddings">∂L/∂E (V, C), or empty.</param>
    /// <param name="scratch">Workspace (<see cref="ScratchLength"/>).</param>
    /// <param name="logProbabilities">Cache (M, V).</param>
    /// <param name="transformed">Cache <c>u</c> (M, C).</param>
    /// <param name="activated">Cache <c>a</c> (M, C).</param>
    /// <param name="normed">Cache <c>z</c> (M, C).</param>
    /// <param name="mean">Cache (M).</param>
    /// <param name="rstd">Cache (M).</param>
    /// <param name="hidden">Forward input (M, C).</param>
    /// <param name="targets">Target ids (M).</param>
    /// <param name="head">Head parameters.</param>
    /// <param name="wordEmbeddings">Tied decoder weight (V, C).</param>
    /// <param name="rows">M.</param>
    /// <param name="channels">C.</param>
    /// <param name="vocabulary">V.</param>
    /// <param name="activation">The transform's activation.</param>
    /// <param name="scale">∂objective/∂L (1 when the loss is the objective).</param>
    public static void Backward<T>(Span<T> dHidden, Span<T> dHead, Span<T> dWordEmbeddings, Span<T> scratch,
        ReadOnlySpan<T> logProbabilities, ReadOnlySpan<T> transformed, ReadOnlySpan<T> activated, ReadOnlySpan<T> normed,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, ReadOnlySpan<T> hidden, ReadOnlySpan<int> targets, ReadOnlySpan<T> head,
        ReadOnlySpan<T> wordEmbeddings, int rows, int channels, int vocabulary, ActivationKind activation, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = rows, c = channels, v = vocabulary, mc = m * c, mv = m * v, cc = c * c;
        var wt = head[..cc]; var gamma = head.Slice(cc + c, c);
        var dWt = dHead[..cc]; var dBt = dHead.Slice(cc, c); var dGamma = dHead.Slice(cc + c, c); var dBeta = dHead.Slice(cc + 2 * c, c); var dBd = dHead.Slice(cc + 3 * c, v);
        var dLogits = scratch[..mv]; dLogits.Clear();                        // (M, V)
        var dZ = scratch.Slice(mv, mc); dZ.Clear();                          // (M, C)
        var dA = scratch.Slice(mv + mc, mc); dA.Clear();                     // (M, C)
        var dU = scratch.Slice(mv + 2 * mc, mc); dU.Clear();                 // (M, C)
        var normScratch = scratch.Slice(mv + 3 * mc, 2 * c);                 // (2C)
        CrossEntropy.Backward(dLogits, logProbabilities[..mv], targets[..m], m, v, scale);
        Linear.Backward(dZ, dWordEmbeddings.IsEmpty ? default : dWordEmbeddings[..(v * c)], dBd, dLogits, normed[..mc], wordEmbeddings[..(v * c)], m, c, v);
        LayerNorm.Backward(dA, dGamma, dBeta, normScratch, dZ, activated[..mc], mean[..m], rstd[..m], gamma, m, c);
        Activation.Backward(activation, dU, dA, transformed[..mc]);
        Linear.Backward(dHidden.IsEmpty ? default : dHidden[..mc], dWt, dBt, dU, hidden[..mc], wt, m, c, c);
    }
}
