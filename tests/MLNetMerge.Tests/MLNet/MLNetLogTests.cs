using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNetMerge.MLNet;

namespace MLNetMerge.Tests.MLNet;

/// <summary><see cref="MLNetLog"/>: messages arrive on <c>MLContext.Log</c> with their kind and the component as source.</summary>
[TestClass]
public sealed class MLNetLogTests
{
    [TestMethod]
    public void MessagesArriveOnTheContextsLog()
    {
        var ml = new MLContext(seed: 0);
        var seen = new List<LoggingEventArgs>();
        ml.Log += (_, e) => { lock (seen) seen.Add(e); };
        using (var log = new MLNetLog(ml, "MLNetMerge.Merge", "ties"))
        {
            log.Info("merged 71 tensors");
            log.Warning("task 'digits' has no head");
            log.Trace("slice 3 of 9");
        }
        var ours = seen.Where(e => e.Source.Contains("MLNetMerge.Merge", StringComparison.Ordinal)).ToList();
        Assert.IsTrue(ours.Any(e => e.Kind == ChannelMessageKind.Info && e.Message.Contains("merged 71 tensors")), Dump(seen));
        Assert.IsTrue(ours.Any(e => e.Kind == ChannelMessageKind.Warning && e.Message.Contains("task 'digits' has no head")), Dump(seen));
        Assert.IsTrue(ours.Any(e => e.Kind == ChannelMessageKind.Trace && e.Message.Contains("slice 3 of 9")), Dump(seen));
    }

    private static string Dump(IEnumerable<LoggingEventArgs> events) => string.Join(" | ", events.Select(e => $"{e.Kind} {e.Source}: {e.Message}"));
}
