// The library as a user gets it: EdgeLlm from a NuGet feed, used from an F# script.
// Run through scripts/nuget-smoke.sh, which packs src/EdgeLlm into artifacts/feed first and clears any cached
// EdgeLlm 0.1.0 so the package just packed is the one restored. Exits 1 (with the reason on stderr) on any mismatch.
// The feed: dotnet fsi has no --add-source, and `#i "nuget: PATH"` wants an absolute URI, so the local feed is
// declared in scripts/nuget.config (relative to that file); fsi restores with the nuget.config beside the script.
#r "nuget: EdgeLlm, 0.1.0"

open System.IO
open EdgeLlm.Checkpoints
open EdgeLlm.Inference
open EdgeLlm.Tokenization

let fail (message: string) =
    eprintfn "nuget-smoke: FAIL: %s" message
    exit 1

let demo = Path.GetFullPath(Path.Combine(__SOURCE_DIRECTORY__, "..", "data", "demo-model"))
let assembly = typeof<CausalLM>.Assembly.Location
if not (assembly.Contains(Path.Combine("edgellm", "0.1.0"))) then fail (sprintf "EdgeLlm was loaded from %s, not from the 0.1.0 package" assembly)

let model = CausalLM.Load demo
let tokenizer = Tokenizers.Load demo

// 1. Logits of the shipped demo model against what transformers computed on it.
let expected = SafeTensorsFile.Open(Path.Combine(demo, "expected.safetensors"))
let ids = expected.["ids_len64"].ToInt64Array() |> Array.map int
let reference = expected.["logits_len64"].ToFloatArray()
let logits = model.ForwardAll(model.NewCache(), System.ReadOnlySpan<int>(ids))
if logits.Length <> reference.Length then fail (sprintf "%d logits, transformers gave %d" logits.Length reference.Length)
let maxDiff = Array.map2 (fun (a: float32) b -> abs (a - b)) logits reference |> Array.max
if not (maxDiff < 1e-3f) then fail (sprintf "max |logit - transformers| = %g (limit 1e-3)" maxDiff)

// 2. Greedy generation: every new token is the argmax (to 1e-3) of the engine's logits for the sequence so far.
let prompt = tokenizer.Encode("def fibonacci(n):", true)
let generator = Generator(model, fun t -> tokenizer.Decode(t, true))
let result = generator.Greedy(prompt, GenerationOptions(MaxNewTokens = 6, StopAtEos = false))
if result.Tokens.Length <> 6 then fail (sprintf "generated %d tokens, asked for 6" result.Tokens.Length)
let vocab = model.Config.VocabSize
let mutable sequence = prompt
for token in result.Tokens do
    let all = model.ForwardAll(model.NewCache(), System.ReadOnlySpan<int>(sequence))
    let last = all.[all.Length - vocab ..]
    // Incremental decoding and a fresh forward pass round differently: allow a near-tie, nothing more.
    if last.[token] < Array.max last - 1e-3f then
        fail (sprintf "generated token %d after %d tokens; its logit %g is below the maximum %g" token sequence.Length last.[token] (Array.max last))
    sequence <- Array.append sequence [| token |]

// 3. A Hub parquet file (the package's Parquet.Net dependency, restored with it) read into samples.
let parquet = Path.Combine(__SOURCE_DIRECTORY__, "..", "tests", "EdgeLlm.Tests", "References", "parquet", "gsm8k", "main", "test-00000-of-00001.parquet")
let gsm8k = EdgeLlm.Evaluation.Tasks.Gsm8kTask(parquet).LoadSamples()
if gsm8k.Count <> 10 then fail (sprintf "read %d GSM8K rows from the parquet fixture, expected 10" gsm8k.Count)

printfn "nuget-smoke: ok: EdgeLlm 0.1.0 from %s; logits within %.1e of transformers; generated %A; %d parquet rows" (Path.GetDirectoryName assembly) maxDiff result.Text gsm8k.Count
