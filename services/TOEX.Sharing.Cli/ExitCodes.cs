namespace TOEX.Sharing.Cli;

/// <summary>API.md: 0 success, 1 a finding (denied, invalid, unverifiable), 2 a usage error.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Finding = 1;
    public const int Usage = 2;
}
