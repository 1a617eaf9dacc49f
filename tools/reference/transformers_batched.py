"""transformers' batched greedy generation throughput on a checkpoint: the paired reference that
`edgellm bench --device cuda --batch N --reference FILE` prints beside its own figures (issue 13).
Runs on the GPU machine (PyTorch + transformers there).

Loads MODEL in float16 on the GPU with sdpa attention, feeds --batch random prompts of --prompt-tokens ids each
(seed 1234, no padding: every prompt has the same length) and greedily generates exactly --new-tokens tokens per
sequence (min_new_tokens = max_new_tokens, so EOS cannot stop any early), one `generate` call for the whole batch.
Throughput = batch x new tokens / wall time of the call (prefill included), median over --repeats after a warm-up;
peak_bytes is torch.cuda.max_memory_allocated over the measured runs (weights included).
Prints one JSON object: {"tokens_per_second": ..., "runs_s": [...], "peak_bytes": ..., "batch": ..., ...}; when the
model cannot be loaded, {"error": "..."}.
"""
import argparse
import json
import statistics
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--prompt-tokens", type=int, default=512)
    p.add_argument("--new-tokens", type=int, default=128)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--attn", default="sdpa")
    a = p.parse_args()
    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    info = {"model": a.model, "torch": torch.__version__, "transformers": transformers.__version__, "attn": a.attn,
            "batch": a.batch, "prompt_tokens": a.prompt_tokens, "new_tokens": a.new_tokens, "dtype": "float16"}
    try:
        model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float16, attn_implementation=a.attn, device_map="cuda").eval()
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        info["error"] = f"{type(e).__name__}: {e}".splitlines()[0][:300]
        print(json.dumps(info))
        return 0
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(1234)
    ids = torch.randint(0, vocab, (a.batch, a.prompt_tokens), generator=g).cuda()
    runs = []
    with torch.inference_mode():
        for r in range(a.repeats + 1):
            if r == 1:
                torch.cuda.reset_peak_memory_stats()
            torch.cuda.synchronize()
            t = time.perf_counter()
            out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=a.new_tokens,
                                 min_new_tokens=a.new_tokens, do_sample=False, pad_token_id=0)
            torch.cuda.synchronize()
            dt = time.perf_counter() - t
            assert out.shape == (a.batch, a.prompt_tokens + a.new_tokens)
            if r > 0:
                runs.append(dt)
    info["runs_s"] = runs
    info["tokens_per_second"] = a.batch * a.new_tokens / statistics.median(runs)
    info["peak_bytes"] = torch.cuda.max_memory_allocated()
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
