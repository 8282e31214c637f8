using System.Data.Common;
using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// A store that cannot answer for a moment (restarting, unreachable, shutting connections down, busy), as its provider
/// classifies it: <see cref="DbException.IsTransient"/> (Npgsql: a broken or refused connection, a timeout, server states
/// such as too many connections or a serialization failure); SQLite's own result codes busy and locked (Microsoft.Data.Sqlite
/// does not classify them itself); PostgreSQL's connection-exception and operator-intervention classes (08xxx, 57P01 admin
/// shutdown, 57P02 crash shutdown, 57P03 cannot connect now: the codes of a server stopping or starting). Looked for
/// anywhere in the exception's chain, since EF Core wraps the provider's exception (DbUpdateException, its execution
/// strategy's InvalidOperationException). Never by message text.
/// </summary>
public static class StoreFailures
{
    /// <summary>What a caller refused because the store is unavailable is told to wait, in seconds: a restart's length.</summary>
    public const int RetryAfterSeconds = 5;

    public static bool IsTransient(Exception? exception)
    {
        for (var depth = 0; exception is not null && depth < 16; depth++)
        {
            switch (exception)
            {
                case PostgresException postgres when postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
                    || postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow:
                    return true;
                case Microsoft.Data.Sqlite.SqliteException sqlite when sqlite.SqliteErrorCode is SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED:
                    return true;
                case DbException { IsTransient: true }:
                    return true;
                case AggregateException aggregate:
                    return aggregate.InnerExceptions.Any(IsTransient);
            }
            exception = exception.InnerException;
        }
        return false;
    }
}

/// <summary>
/// A request that failed because the store is unavailable (<see cref="StoreFailures.IsTransient"/>) is answered 503
/// problem+json with Retry-After, as every other "try again shortly", instead of 500. A write cut at its commit may have
/// committed: the caller's retry finds it (a submission is one package by its reference, never two).
/// Registered once for every service (<see cref="Extensions.AddServiceDefaults"/>), run by <c>UseExceptionHandler</c>.
/// </summary>
internal sealed partial class StoreUnavailableHandler(ILogger<StoreUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!StoreFailures.IsTransient(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }
        LogUnavailable(logger, httpContext.Request.Method, httpContext.Request.Path, exception.GetType().Name, SqlState(exception));
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = StoreFailures.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        await Problems.Status(StatusCodes.Status503ServiceUnavailable, "store-unavailable",
            "The service's store is unavailable for a moment. Try the request again after Retry-After.")
            .ExecuteAsync(httpContext);
        return true;
    }

    private static string? SqlState(Exception? exception)
    {
        while (exception is not null and not PostgresException)
        {
            exception = exception.InnerException;
        }
        return (exception as PostgresException)?.SqlState;
    }

    [LoggerMessage(LogLevel.Warning, "{Method} {Path} answered 503: the store is unavailable ({ExceptionType}, SQL state {SqlState})")]
    private static partial void LogUnavailable(ILogger logger, string method, string path, string exceptionType, string? sqlState);
}
