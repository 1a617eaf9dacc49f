using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace EdgeLlm.Tokenization;

/// <summary>
/// The shared byte-level pipeline: added tokens, normalization, pre-tokenization, cached per-piece BPE,
/// and byte-level decoding. The BPE step itself is an <see cref="IWordEncoder"/>.
/// </summary>
internal sealed class TokenizerCore
{
    private const int MaxCachedPieceLength = 64;
    private const int CacheCapacity = 200_000;

    private readonly AddedTokenSplitter? addedTokens;
    private readonly TextNormalizer? normalizer;
    private readonly IPreTokenizer[] preTokenizers;
    private readonly IWordEncoder encoder;
    private readonly byte[]?[] idToBytes;
    private readonly bool[] isSpecial;
    private readonly string?[] idToToken;
    private readonly Dictionary<string, int> tokenToId;
    private readonly ConcurrentDictionary<string, int[]> cache = new();
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> cacheLookup;
    private int cacheCount;

    // tokens: every model token string (byte-level form) with its id.
    public TokenizerCore(
        IReadOnlyDictionary<string, int> tokens,
        IReadOnlyList<AddedToken> added,
        TextNormalizer? normalizer,
        IPreTokenizer[] preTokenizers,
        IWordEncoder encoder,
        SpecialTokenSettings settings)
    {
        this.normalizer = normalizer is { Forms.Count: > 0 } ? normalizer : null;
        this.preTokenizers = preTokenizers;
        this.encoder = encoder;
        addedTokens = added.Count > 0 ? new AddedTokenSplitter(added) : null;
        cacheLookup = cache.GetAlternateLookup<ReadOnlySpan<char>>();

        var size = 0;
        foreach (var id in tokens.Values) size = Math.Max(size, id + 1);
        foreach (var t in added) size = Math.Max(size, t.Id + 1);
        VocabSize = size;
        idToBytes = new byte[size][];
        idToToken = new string[size];
        isSpecial = new bool[size];
        tokenToId = new Dictionary<string, int>(tokens.Count + added.Count, StringComparer.Ordinal);
        foreach (var (token, id) in tokens)
        {
            idToToken[id] = token;
            idToBytes[id] = ByteLevelAlphabet.ToBytes(token);
            tokenToId[token] = id;
        }
        foreach (var t in added)
        {
            idToToken[t.Id] = t.Content;
            idToBytes[t.Id] = Encoding.UTF8.GetBytes(t.Content);
            isSpecial[t.Id] = t.Special;
            tokenToId[t.Content] = t.Id;
        }
        SpecialTokens = added.Where(t => t.Special).Select(t => t.Content).ToArray();

        BosTokenId = Resolve(settings.BosToken);
        EosTokenId = Resolve(settings.EosToken);
        AddBosToken = settings.AddBosToken && BosTokenId is not null;
        AddEosToken = settings.AddEosToken && EosTokenId is not null;
    }

    public int VocabSize { get; }
    public int? BosTokenId { get; }
    public int? EosTokenId { get; }
    public bool AddBosToken { get; }
    public bool AddEosToken { get; }
    public IReadOnlyList<string> SpecialTokens { get; }

    public string? TokenToString(int id) => (uint)id < (uint)idToToken.Length ? idToToken[id] : null;

    public int? TokenToId(string token) => tokenToId.TryGetValue(token, out var id) ? id : null;

    public int[] Encode(string text, bool addSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens && AddBosToken) output.Add(BosTokenId!.Value);
        if (addedTokens is null)
        {
            EncodePlain(text, output);
        }
        else
        {
            var segments = new List<(int Start, int Length, int TokenId)>();
            addedTokens.Split(text, segments);
            foreach (var (start, length, tokenId) in segments)
            {
                if (tokenId >= 0) output.Add(tokenId);
                else EncodePlain(text.Substring(start, length), output);
            }
        }
        if (addSpecialTokens && AddEosToken) output.Add(EosTokenId!.Value);
        return output.ToArray();
    }

    private void EncodePlain(string text, List<int> output)
    {
        if (normalizer is not null) text = normalizer.Apply(text);
        var pieces = new List<(int Start, int Length)>();
        if (preTokenizers.Length == 0)
        {
            pieces.Add((0, text.Length));
        }
        else
        {
            preTokenizers[0].Split(text, pieces);
            for (var stage = 1; stage < preTokenizers.Length; stage++)
            {
                var refined = new List<(int Start, int Length)>(pieces.Count);
                var sub = new List<(int Start, int Length)>();
                foreach (var (start, length) in pieces)
                {
                    sub.Clear();
                    preTokenizers[stage].Split(text.AsSpan(start, length), sub);
                    foreach (var (s, l) in sub) refined.Add((start + s, l));
                }
                pieces = refined;
            }
        }
        foreach (var (start, length) in pieces) EncodePiece(text.AsSpan(start, length), output);
    }

    private void EncodePiece(ReadOnlySpan<char> piece, List<int> output)
    {
        if (piece.IsEmpty) return;
        if (cacheLookup.TryGetValue(piece, out var cached))
        {
            output.AddRange(cached);
            return;
        }

        var byteCount = Encoding.UTF8.GetByteCount(piece);
        byte[]? rented = null;
        var utf8 = byteCount <= 512 ? stackalloc byte[byteCount] : (rented = ArrayPool<byte>.Shared.Rent(byteCount));
        try
        {
            utf8 = utf8[..Encoding.UTF8.GetBytes(piece, utf8)];
            if (piece.Length > MaxCachedPieceLength)
            {
                encoder.Encode(utf8, output);
                return;
            }
            var before = output.Count;
            encoder.Encode(utf8, output);
            var ids = output.GetRange(before, output.Count - before).ToArray();
            if (Interlocked.Increment(ref cacheCount) > CacheCapacity)
            {
                cache.Clear();
                Interlocked.Exchange(ref cacheCount, 0);
            }
            cacheLookup.TryAdd(piece, ids);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var buffer = new ArrayBufferWriter<byte>(ids.Length * 4 + 16);
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)idToBytes.Length || idToBytes[id] is not { } bytes)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is not in the vocabulary (size {VocabSize}).");
            if (skipSpecialTokens && isSpecial[id]) continue;
            buffer.Write(bytes);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The bytes <paramref name="id"/> adds to <see cref="Decode"/>'s UTF-8 input (none for a skipped special token).</summary>
    public ReadOnlyMemory<byte> TokenBytes(int id, bool skipSpecialTokens)
    {
        if ((uint)id >= (uint)idToBytes.Length || idToBytes[id] is not { } bytes)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is not in the vocabulary (size {VocabSize}).");
        return skipSpecialTokens && isSpecial[id] ? ReadOnlyMemory<byte>.Empty : bytes;
    }

    private int? Resolve(string? token) => token is not null && tokenToId.TryGetValue(token, out var id) ? id : null;
}
