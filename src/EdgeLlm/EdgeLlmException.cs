namespace EdgeLlm;

/// <summary>
/// Base of every error the library raises for bad input or an unusable environment (a malformed file, a
/// config that would give wrong results, a missing sandbox tool): the message is one line naming the file
/// and the problem, fit to show a user as is. Anything else that escapes the library is a bug.
/// </summary>
public abstract class EdgeLlmException(string message, Exception? inner = null) : Exception(message, inner);
