namespace EdgeLlm.Hub;

public enum HubFailure { NotFound, Gated, Unauthorized, Offline, Checksum, Network, BadResponse }

/// <summary>A download or cache lookup that failed; the message names the repo, the file and what to do.</summary>
public sealed class HubException(HubFailure failure, string message, Exception? inner = null) : EdgeLlmException(message, inner)
{
    public HubFailure Failure { get; } = failure;
}
