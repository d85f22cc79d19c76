using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MLNetMerge.MLNet;

/// <summary>
/// Messages onto <c>MLContext.Log</c>, as ML.NET's own components write them: a host registered with the context
/// (<c>((IHostEnvironment)ml).Register(component)</c>) and a channel started on it. Only the overloads that take a
/// <see cref="MessageSensitivity"/> are public; every message here is <see cref="MessageSensitivity.None"/> (it holds
/// no user data). Dispose ends the channel.
/// </summary>
internal sealed class MLNetLog : IDisposable
{
    private readonly IChannel _channel;

    /// <summary>Starts channel <paramref name="channel"/> of a host named <paramref name="component"/> in <paramref name="ml"/>.</summary>
    public MLNetLog(MLContext ml, string component, string channel = "Run")
    {
        ArgumentNullException.ThrowIfNull(ml);
        Host = ((IHostEnvironment)ml).Register(component);
        _channel = Host.Start(channel);
    }

    /// <summary>The registered host (its name is the message source ML.NET reports).</summary>
    public IHost Host { get; }

    /// <summary>An informational message.</summary>
    public void Info(string message) => _channel.Info(MessageSensitivity.None, message);

    /// <summary>A warning.</summary>
    public void Warning(string message) => _channel.Warning(MessageSensitivity.None, message);

    /// <summary>A trace message (ML.NET's most detailed level).</summary>
    public void Trace(string message) => _channel.Trace(MessageSensitivity.None, message);

    /// <inheritdoc/>
    public void Dispose() => _channel.Dispose();
}
