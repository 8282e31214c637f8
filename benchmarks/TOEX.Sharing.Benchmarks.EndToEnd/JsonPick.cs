using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;

namespace TOEX.Sharing.Benchmarks.EndToEnd;

/// <summary>
/// Called with the reader on the value of a property <see cref="JsonPick"/> was asked for (<paramref name="name"/> is
/// its position in the names given); false stops the reading.
/// </summary>
internal delegate bool JsonPicked(int name, ref Utf8JsonReader reader);

/// <summary>
/// Reads only the properties the benchmark needs out of a JSON body as it streams in, with <see cref="Utf8JsonReader"/>:
/// no document is built, nothing else is turned into strings, and at most one token (one sealed copy) is held at once,
/// so the client's own cost stays small beside what it measures. It can stop as soon as it has what it needs (a push's
/// ids come before its sealed copy).
/// </summary>
internal static class JsonPick
{
    /// <summary>Reads from <paramref name="stream"/> (a response's content) through a pipe of its own, released at the end.</summary>
    public static async Task ReadAsync(Stream stream, byte[][] names, JsonPicked picked, CancellationToken cancellationToken = default)
    {
        var pipe = PipeReader.Create(stream);
        try
        {
            await ReadAsync(pipe, names, picked, cancellationToken);
        }
        finally
        {
            await pipe.CompleteAsync();
        }
    }

    public static async Task ReadAsync(PipeReader pipe, byte[][] names, JsonPicked picked, CancellationToken cancellationToken = default)
    {
        var state = new JsonReaderState();
        var wanted = -1;
        while (true)
        {
            var read = await pipe.ReadAsync(cancellationToken);
            var (consumed, more) = Scan(read.Buffer, read.IsCompleted, names, picked, ref state, ref wanted);
            if (!more || read.IsCompleted)
            {
                pipe.AdvanceTo(read.Buffer.End);
                return;
            }
            pipe.AdvanceTo(read.Buffer.GetPosition(consumed), read.Buffer.End);
        }
    }

    /// <summary>Reads the tokens complete in <paramref name="buffer"/>; how far it got, and whether to go on.</summary>
    private static (long Consumed, bool More) Scan(
        ReadOnlySequence<byte> buffer, bool final, byte[][] names, JsonPicked picked, ref JsonReaderState state, ref int wanted)
    {
        var reader = new Utf8JsonReader(buffer, final, state);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                wanted = -1;
                for (var i = 0; i < names.Length; i++)
                {
                    if (reader.ValueTextEquals(names[i]))
                    {
                        wanted = i;
                        break;
                    }
                }
            }
            else if (wanted >= 0)
            {
                var name = wanted;
                wanted = -1;
                if (!picked(name, ref reader))
                {
                    return (reader.BytesConsumed, false);
                }
            }
        }
        state = reader.CurrentState;
        return (reader.BytesConsumed, true);
    }
}
