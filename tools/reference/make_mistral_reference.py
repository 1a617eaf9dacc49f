"""Reference outputs from Hugging Face transformers for EdgeLlm's Mistral support (run on the device machine).

  python3 tools/reference/make_mistral_reference.py OUT_DIR

Builds a tiny random MistralForCausalLM (vocab 1000, 3 layers, hidden 32, 4 heads over 2 KV heads,
sliding_window 16, so the 33- and 130-token inputs and the 31-token greedy run all reach past the
window) and saves it in the Hugging Face layout twice: OUT_DIR/mistral-float32 and
OUT_DIR/mistral-bfloat16 (the same weights rounded to bfloat16). Each folder's expected.safetensors
holds what from_pretrained(folder, dtype=float32) computes on that folder's own weights, with the same
tensor names as ../shared/fixtures/hf-tiny (kept small: lengths 33 and 130 only):

  ids_len33, ids_len130       [1, N] int64 input ids
  logits_len130               [130, vocab] f32, one forward without a cache
  loglik_len33                [32] f32, log p(ids[t+1] | ids[..t])
  greedy_prompt               [1, 7] int64
  greedy_out                  [24] int64, greedy decoding (no EOS stop)
  greedy_logits               [24, vocab] f32, the logits each generated token was chosen from
"""
import json, os, sys, torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, MistralConfig, MistralForCausalLM
import transformers

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
meta = {"transformers": transformers.__version__, "torch": torch.__version__}

torch.manual_seed(0)
cfg = MistralConfig(vocab_size=1000, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                    num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=512,
                    rms_norm_eps=1e-5, tie_word_embeddings=False, sliding_window=16,
                    rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
                    bos_token_id=1, eos_token_id=2)
model = MistralForCausalLM(cfg).eval()
with torch.no_grad():
    for p in model.parameters():
        p.normal_(0, 0.15)
    for n, p in model.named_parameters():
        if "norm" in n:
            p.fill_(1.0).add_(torch.randn_like(p) * 0.1)

gen = torch.Generator().manual_seed(1)
ids33 = torch.randint(0, 1000, (1, 33), generator=gen)
ids130 = torch.randint(0, 1000, (1, 130), generator=gen)
prompt = torch.randint(0, 1000, (1, 7), generator=gen)

for dtype_name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
    folder = os.path.join(out, f"mistral-{dtype_name}")
    model.to(dtype).save_pretrained(folder, safe_serialization=True)
    model = model.to(torch.float32)
    m = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    assert m.config.sliding_window == 16, m.config.sliding_window
    with torch.no_grad():
        logits130 = m(ids130).logits[0].float().contiguous()
        logits33 = m(ids33).logits[0].float()
        logprobs = torch.log_softmax(logits33, dim=-1)
        loglik = logprobs[:-1].gather(1, ids33[0, 1:, None])[:, 0].contiguous()
        # Greedy by hand, one token at a time through the cache, so every step's logits are kept.
        cache = None
        step_in = prompt
        tokens, step_logits = [], []
        for _ in range(24):
            o = m(step_in, past_key_values=cache, use_cache=True)
            cache = o.past_key_values
            last = o.logits[0, -1].float()
            nxt = int(last.argmax())
            tokens.append(nxt)
            step_logits.append(last)
            step_in = torch.tensor([[nxt]])
        # The same continuation without a cache (one forward over prompt + tokens) must pick the same tokens.
        full = m(torch.cat([prompt, torch.tensor([tokens[:-1]])], dim=1)).logits[0, prompt.shape[1] - 1:].float()
        assert full.argmax(-1).tolist() == tokens, "cached and uncached greedy disagree"
    save_file({"ids_len33": ids33, "ids_len130": ids130, "logits_len130": logits130, "loglik_len33": loglik,
               "greedy_prompt": prompt, "greedy_out": torch.tensor(tokens, dtype=torch.int64),
               "greedy_logits": torch.stack(step_logits).contiguous()},
              os.path.join(folder, "expected.safetensors"), metadata={**meta, "note": "from_pretrained(dtype=float32)"})
    print(dtype_name, json.dumps(json.load(open(os.path.join(folder, "config.json")))))
print(json.dumps(meta))
