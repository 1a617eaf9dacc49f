using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using Ml = Microsoft.ML.Tokenizers;

namespace EdgeLlm.Tokenization;

/// <summary>
/// What EdgeLlm adds around a configured Microsoft.ML.Tokenizers <see cref="Ml.Tokenizer"/>, which does the BPE:
/// BOS/EOS from the configuration; a cache of each piece's ids in front of the library (its own keeps only words
/// of up to 15 byte-level characters, and warm encoding through it alone was 1.7-3x slower, docs/performance.md);
/// token ⇄ id look-ups over model and added tokens; and decoding that skips only the tokens marked special and
/// writes added tokens' text as is (the library skips all of its special tokens and maps their characters back
/// through the byte-level alphabet).
/// <see cref="Encode"/> gives what <c>Model.EncodeToIds</c> gives, plus BOS/EOS.
/// </summary>
internal sealed class TokenizerCore
{
    private const int MaxCachedPieceLength = 64;
    private const int CacheCapacity = 200_000;

    private readonly HfPreTokenizer preTokenizer;
    private readonly ConcurrentDictionary<string, int[]> cache = new();
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> cacheLookup;
    private int cacheCount;
    private readonly byte[]?[] idToBytes;
    private readonly bool[] isSpecial;
    private readonly string?[] idToToken;
    private readonly Dictionary<string, int> tokenToId;

    // tokens: every model token string (byte-level form) with its id.
    public TokenizerCore(Ml.Tokenizer model, HfPreTokenizer preTokenizer, IReadOnlyDictionary<string, int> tokens,
        IReadOnlyList<AddedToken> added, SpecialTokenSettings settings)
    {
        Model = model;
        this.preTokenizer = preTokenizer;
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
        AddBosToken = settings.AddBosToken == true && BosTokenId is not null;
        AddEosToken = settings.AddEosToken == true && EosTokenId is not null;
    }

    public Ml.Tokenizer Model { get; }
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
        if (Model.Normalizer is { } normalizer) text = normalizer.Normalize(text);
        var pieces = new List<(int Start, int Length)>(text.Length / 4 + 1);
        if (preTokenizer.AddedTokens is null)
        {
            EncodePlain(text, pieces, output);
        }
        else
        {
            var segments = new List<(int Start, int Length, int TokenId)>();
            preTokenizer.AddedTokens.Split(text, segments);
            foreach (var (start, length, tokenId) in segments)
            {
                if (tokenId >= 0) output.Add(tokenId);
                else EncodePlain(text.AsSpan(start, length), pieces, output);
            }
        }
        if (addSpecialTokens && AddEosToken) output.Add(EosTokenId!.Value);
        return output.ToArray();
    }

    private void EncodePlain(ReadOnlySpan<char> text, List<(int Start, int Length)> pieces, List<int> output)
    {
        pieces.Clear();
        preTokenizer.SplitPlain(text, pieces);
        foreach (var (start, length) in pieces) EncodePiece(text.Slice(start, length), output);
    }

    private void EncodePiece(ReadOnlySpan<char> piece, List<int> output)
    {
        if (piece.IsEmpty) return;
        if (cacheLookup.TryGetValue(piece, out var cached))
        {
            output.AddRange(cached);
            return;
        }
        var ids = Model.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false);
        output.AddRange(ids);
        if (piece.Length > MaxCachedPieceLength) return;
        if (Interlocked.Increment(ref cacheCount) > CacheCapacity)
        {
            cache.Clear();
            Interlocked.Exchange(ref cacheCount, 0);
        }
        cacheLookup.TryAdd(piece, [.. ids]);
    }

    /// <summary>
    /// The text of <paramref name="ids"/>. An id the vocabulary lacks adds nothing, as in Hugging Face's tokenizers: a model's
    /// embedding is often padded past the tokenizer (Phi-2: 51,200 rows for 50,295 tokens) and the model can emit those ids.
    /// A negative id is an error.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var buffer = new ArrayBufferWriter<byte>(ids.Length * 4 + 16);
        foreach (var id in ids) buffer.Write(TokenBytes(id, skipSpecialTokens).Span);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The bytes <paramref name="id"/> adds to <see cref="Decode"/>'s UTF-8 input (none for a skipped special token or an id past the vocabulary).</summary>
    public ReadOnlyMemory<byte> TokenBytes(int id, bool skipSpecialTokens)
    {
        if (id < 0) throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is negative.");
        if (id >= idToBytes.Length || idToBytes[id] is not { } bytes) return ReadOnlyMemory<byte>.Empty;
        return skipSpecialTokens && isSpecial[id] ? ReadOnlyMemory<byte>.Empty : bytes;
    }

    private int? Resolve(string? token) => token is not null && tokenToId.TryGetValue(token, out var id) ? id : null;
}
