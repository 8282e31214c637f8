namespace TOEX.Sharing.Testing;

/// <summary>The last lines a process wrote, and waiters for a line yet to come.</summary>
internal sealed class OutputBuffer(int capacity)
{
    private readonly Queue<string> lines = new(capacity);
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> waiters = [];
    private readonly Lock gate = new();
    private string? closedReason;

    public void Add(string line)
    {
        List<TaskCompletionSource<string>> found = [];
        lock (gate)
        {
            if (lines.Count == capacity)
            {
                lines.Dequeue();
            }

            lines.Enqueue(line);
            for (var i = waiters.Count - 1; i >= 0; i--)
            {
                if (waiters[i].Match(line))
                {
                    found.Add(waiters[i].Found);
                    waiters.RemoveAt(i);
                }
            }
        }

        foreach (var waiter in found)
        {
            waiter.TrySetResult(line);
        }
    }

    public IReadOnlyList<string> Snapshot()
    {
        lock (gate)
        {
            return [.. lines];
        }
    }

    /// <summary>Completes with the first buffered or future line that matches.</summary>
    public Task<string> WaitForLineAsync(Func<string, bool> match)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            var existing = lines.FirstOrDefault(match);
            if (existing is not null)
            {
                found.SetResult(existing);
            }
            else if (closedReason is not null)
            {
                found.SetException(new InvalidOperationException(closedReason));
            }
            else
            {
                waiters.Add((match, found));
            }
        }

        return found.Task;
    }

    /// <summary>No more lines will come: fail every waiter with <paramref name="reason"/>.</summary>
    public void Close(string reason)
    {
        List<TaskCompletionSource<string>> pending;
        lock (gate)
        {
            closedReason = reason;
            pending = [.. waiters.Select(w => w.Found)];
            waiters.Clear();
        }

        foreach (var waiter in pending)
        {
            waiter.TrySetException(new InvalidOperationException(reason));
        }
    }
}
