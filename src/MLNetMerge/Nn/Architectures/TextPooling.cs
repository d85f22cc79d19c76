namespace MLNetMerge.Nn.Architectures;

/// <summary>How a text encoder turns its hidden states into one vector per sequence.</summary>
internal enum TextPooling
{
    /// <summary>The model's own pooled output: the tanh pooler when the checkpoint has one, else the first token.</summary>
    Pooler,
    /// <summary>The first token's last hidden state.</summary>
    Cls,
    /// <summary>Mean of the last hidden states over real (unmasked) tokens, as sentence-transformers does.</summary>
    Mean,
}
