"""transformers' TPOT on a checkpoint: the paired reference that `edgellm bench --device cuda --reference FILE` prints
beside its own figures (issue 18). Runs on the GPU machine (PyTorch + transformers there).

Loads MODEL in float16 on the GPU with sdpa attention, feeds a random prompt of --prompt-tokens ids (seed 1234) and
greedily generates exactly --new-tokens tokens (min_new_tokens = max_new_tokens, so EOS cannot stop it early).
TPOT = (prefill + all decode steps) / new tokens, the challenge's definition, median over --repeats after a warm-up.
Prints one JSON object: {"tpot_ms": ..., "runs_ms": [...], "model": ..., "torch": ..., "transformers": ...}; when the
model cannot be loaded (QWenLMHeadModel needs the model's own remote code), {"error": "..."}.
"""
import argparse
import json
import statistics
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--prompt-tokens", type=int, default=128)
    p.add_argument("--new-tokens", type=int, default=256)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--attn", default="sdpa")
    a = p.parse_args()
    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    info = {"model": a.model, "torch": torch.__version__, "transformers": transformers.__version__, "attn": a.attn,
            "prompt_tokens": a.prompt_tokens, "new_tokens": a.new_tokens}
    try:
        model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float16, attn_implementation=a.attn, device_map="cuda").eval()
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        info["error"] = f"{type(e).__name__}: {e}".splitlines()[0][:300]
        print(json.dumps(info))
        return 0
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(1234)
    ids = torch.randint(0, vocab, (1, a.prompt_tokens), generator=g).cuda()
    runs = []
    with torch.inference_mode():
        for r in range(a.repeats + 1):
            torch.cuda.synchronize()
            t = time.perf_counter()
            out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=a.new_tokens,
                                 min_new_tokens=a.new_tokens, do_sample=False, pad_token_id=0)
            torch.cuda.synchronize()
            dt = time.perf_counter() - t
            assert out.shape[1] - ids.shape[1] == a.new_tokens
            if r > 0:
                runs.append(dt * 1000 / a.new_tokens)
    info["tpot_ms"] = statistics.median(runs)
    info["runs_ms"] = runs
    info["peak_memory_bytes"] = torch.cuda.max_memory_allocated()
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
