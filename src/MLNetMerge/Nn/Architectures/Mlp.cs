using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Nn.Architectures;

/// <summary>Hyper-parameters of a plain multi-layer perceptron (<c>model_type: mlp</c>).</summary>
internal sealed record MlpConfig
{
    /// <summary>Input features (<c>input_size</c>).</summary>
    public int InputSize { get; init; }
    /// <summary>Widths of the hidden layers (<c>hidden_sizes</c>).</summary>
    public int[] HiddenSizes { get; init; } = [];
    /// <summary>Output features (<c>output_size</c>).</summary>
    public int OutputSize { get; init; }
    /// <summary>Activation after every layer but the last (<c>hidden_act</c>, default relu).</summary>
    public ActivationKind Activation { get; init; } = ActivationKind.Relu;

    /// <summary>Reads <c>{"model_type": "mlp", "input_size": …, "hidden_sizes": […], "output_size": …, "hidden_act": "relu"}</c>.</summary>
    /// <exception cref="ArgumentException">Not an MLP config, or sizes missing.</exception>
    public static MlpConfig FromJson(JsonElement root)
    {
        ConfigJson.Root(root);
        string type = ConfigJson.Str(root, "model_type", "");
        if (type != "mlp") throw new ArgumentException($"config.json model_type '{type}' is not mlp.");
        int input = ConfigJson.Int(root, "input_size", 0), output = ConfigJson.Int(root, "output_size", 0);
        if (input <= 0 || output <= 0) throw new ArgumentException("an mlp config needs positive input_size and output_size.");
        int[] hidden = ConfigJson.Ints(root, "hidden_sizes");
        return new MlpConfig { InputSize = input, HiddenSizes = hidden, OutputSize = output,
            Activation = Layers.Activation.Parse(ConfigJson.Str(root, "hidden_act", "relu")) };
    }
}

/// <summary>
/// A plain MLP: <c>h_0 = x</c>, <c>h_{i+1} = act(h_i W_iᵀ + b_i)</c>, output without activation. Tensors
/// <c>layers.{i}.weight</c> (out, in) and <c>layers.{i}.bias</c> (out), as an <c>nn.ModuleList</c> of <c>nn.Linear</c> saves them.
/// </summary>
internal sealed class Mlp : IDenseEncoder
{
    private readonly int[] _sizes;
    private readonly ActivationArena _arena = new();
    private ArenaBuffer[] _pre = [], _post = [];
    private ArenaBuffer _d1, _d2;
    private int _maxBatch;

    /// <summary>Declares the parameters (zero-initialised).</summary>
    public Mlp(MlpConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _sizes = [config.InputSize, .. config.HiddenSizes, config.OutputSize];
        var layout = new ParameterLayout();
        for (int i = 0; i + 1 < _sizes.Length; i++)
        {
            layout.Add($"layers.{i}.weight", _sizes[i + 1], _sizes[i]);
            layout.Add($"layers.{i}.bias", _sizes[i + 1]);
        }
        Parameters = new ParameterArena(layout);
    }

    /// <summary>The hyper-parameters.</summary>
    public MlpConfig Config { get; }

    /// <summary>Parameters and gradients.</summary>
    public ParameterArena Parameters { get; }

    /// <summary>Architecture name: <c>mlp</c>.</summary>
    public string ArchitectureName => "mlp";

    /// <summary>Input features.</summary>
    public int InputSize => Config.InputSize;

    /// <summary>Output features (the MLP's output is its embedding).</summary>
    public int EmbeddingSize => Config.OutputSize;

    /// <summary>Same as <see cref="Output"/>.</summary>
    public ReadOnlySpan<float> Embedding(int batch) => Output(batch);

    /// <summary>Same as <see cref="Backward"/>.</summary>
    public void BackwardFromEmbedding(ReadOnlySpan<float> dEmbedding, int batch) => Backward(dEmbedding, batch);

    /// <summary>Reads the parameters from a checkpoint.</summary>
    /// <exception cref="ArchitectureMismatchException">Names or shapes differ.</exception>
    public void Load(ICheckpointReader reader) => Parameters.Load(reader, "mlp");

    private int Layers => _sizes.Length - 1;

    private void EnsureCapacity(int batch)
    {
        if (batch <= _maxBatch) return;
        _maxBatch = batch;
        _arena.Reset();
        _pre = new ArenaBuffer[Layers];
        _post = new ArenaBuffer[Layers + 1];
        _post[0] = _arena.Reserve(batch * _sizes[0]);
        for (int i = 0; i < Layers; i++) { _pre[i] = _arena.Reserve(batch * _sizes[i + 1]); _post[i + 1] = _arena.Reserve(batch * _sizes[i + 1]); }
        int widest = _sizes.Max();
        _d1 = _arena.Reserve(batch * widest); _d2 = _arena.Reserve(batch * widest);
    }

    /// <summary>Runs the MLP on <paramref name="x"/> (B, In); read the result with <see cref="Output"/>.</summary>
    public void Forward(ReadOnlySpan<float> x, int batch)
    {
        EnsureCapacity(batch);
        x[..(batch * _sizes[0])].CopyTo(_arena.Span(_post[0], batch * _sizes[0]));
        for (int i = 0; i < Layers; i++)
        {
            var input = _arena.Span(_post[i], batch * _sizes[i]);          // (B, in)
            var pre = _arena.Span(_pre[i], batch * _sizes[i + 1]);         // (B, out)
            Linear.Forward<float>(pre, input, Parameters.Value(2 * i), Parameters.Value(2 * i + 1), batch, _sizes[i], _sizes[i + 1]);
            var post = _arena.Span(_post[i + 1], batch * _sizes[i + 1]);   // (B, out)
            if (i + 1 < Layers) Activation.Forward<float>(Config.Activation, post, pre);
            else pre.CopyTo(post);
        }
    }

    /// <summary>Output (B, Out) of the latest <see cref="Forward"/>.</summary>
    public ReadOnlySpan<float> Output(int batch) => _arena.Span(_post[Layers], batch * _sizes[^1]);

    /// <summary>Backward of the latest <see cref="Forward"/> from ∂L/∂output (B, Out); adds into the gradients.</summary>
    public void Backward(ReadOnlySpan<float> dOutput, int batch)
    {
        // Buffers: the output gradient and every pre-activation gradient live in _d1, every layer-input gradient in _d2,
        // so no kernel reads and writes the same buffer.
        Span<float> dPost = _arena.Span(_d1, batch * _sizes[^1]);           // (B, Out)
        dOutput[..dPost.Length].CopyTo(dPost);
        for (int i = Layers - 1; i >= 0; i--)
        {
            int outDim = _sizes[i + 1], inDim = _sizes[i];
            Span<float> dPre = dPost;                                        // (B, out)
            if (i + 1 < Layers)
            {
                dPre = _arena.Span(_d1, batch * outDim); dPre.Clear();
                Activation.Backward<float>(Config.Activation, dPre, dPost, _arena.Span(_pre[i], batch * outDim));
            }
            Span<float> dInput = i > 0 ? _arena.Span(_d2, batch * inDim) : default; // (B, in)
            dInput.Clear();
            Linear.Backward<float>(dInput, Parameters.Gradient(2 * i), Parameters.Gradient(2 * i + 1), dPre,
                _arena.Span(_post[i], batch * inDim), Parameters.Value(2 * i), batch, inDim, outDim);
            dPost = dInput;
        }
    }
}
