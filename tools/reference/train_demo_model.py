"""Trains EdgeLlm's shipped demo model (data/demo-model) on a GPU machine.

  python3 tools/reference/train_demo_model.py TRAIN.json.gz VALID.json.gz OUT_DIR

A 4-layer Llama (hidden 192, 6 heads / 2 KV heads, MLP 512, tied embeddings) with its own
byte-level BPE vocabulary of 2048 tokens, trained from scratch on C4-format JSON-lines text (the
Python documentation sections that ../shared/datasets/c4-format-pydoc holds). Writes the FP16
checkpoint, tokenizer files, training.json, and expected.safetensors: logits transformers computes
in float32 on the saved FP16 weights, which EdgeLlm's tests compare against.
"""
import gzip, json, math, os, sys, time, torch
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM, AutoModelForCausalLM

train_path, valid_path, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
docs = [json.loads(l)["text"] for l in gzip.open(train_path, "rt", encoding="utf-8")]
valid = [json.loads(l)["text"] for l in gzip.open(valid_path, "rt", encoding="utf-8")]

tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=2048, special_tokens=["<|endoftext|>"],
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
tok.train_from_iterator(docs, trainer)
tok.save(os.path.join(out, "tokenizer.json"))
json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
           "add_bos_token": False, "model_max_length": 512}, open(os.path.join(out, "tokenizer_config.json"), "w"), indent=2)
eos = tok.token_to_id("<|endoftext|>")

def stream(texts):
    ids = []
    for t in texts:
        ids += tok.encode(t).ids + [eos]
    return torch.tensor(ids)

train_ids, valid_ids = stream(docs), stream(valid)
seq, batch, steps = 256, 32, 600
cfg = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=192, intermediate_size=512, num_hidden_layers=4,
                  num_attention_heads=6, num_key_value_heads=2, head_dim=32, max_position_embeddings=512,
                  rms_norm_eps=1e-5, tie_word_embeddings=True, bos_token_id=eos, eos_token_id=eos,
                  rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
torch.manual_seed(0)
model = LlamaForCausalLM(cfg).cuda()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1, betas=(0.9, 0.95))
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.05)
gen = torch.Generator().manual_seed(0)
held_out = valid_ids[-(16 * seq):].view(16, seq)  # the tail of the validation stream, disjoint from the reported windows
best = (float("inf"), -1, None)
start = time.time()
for step in range(steps):
    idx = torch.randint(0, len(train_ids) - seq - 1, (batch,), generator=gen)
    x = torch.stack([train_ids[i:i + seq] for i in idx]).cuda()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = model(input_ids=x, labels=x).loss
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step(); sched.step()
    if step % 25 == 0:
        model.eval()
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
            val = torch.stack([model(input_ids=w[None].cuda(), labels=w[None].cuda()).loss for w in held_out]).mean().item()
        model.train()
        if val < best[0]:
            best = (val, step, {k: v.detach().clone() for k, v in model.state_dict().items()})
        print(f"step {step} train {loss.item():.3f} valid {val:.3f} ({time.time() - start:.0f}s)", flush=True)
# Early stopping: the corpus is small, so keep the weights with the best held-out loss.
model.load_state_dict(best[2])
print(f"kept step {best[1]} (valid loss {best[0]:.3f})")
model = model.float().cpu().eval()
model.to(torch.float16).save_pretrained(out, safe_serialization=True)
model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
windows = valid_ids[: (len(valid_ids) // seq) * seq].view(-1, seq)[:32]
with torch.no_grad():
    nll = torch.stack([model(input_ids=w[None], labels=w[None]).loss for w in windows])
    probe = windows[0][None, :64].clone()
    logits = model(probe).logits[0].contiguous()
ppl = math.exp(nll.mean().item())
save_file({"ids_len64": probe.contiguous(), "logits_len64": logits, "val_windows": windows.contiguous(), "val_window_nll": nll.float()},
          os.path.join(out, "expected.safetensors"),
          metadata={"perplexity": str(ppl), "transformers": __import__("transformers").__version__, "torch": torch.__version__})
json.dump({"arch": "llama", "params": sum(p.numel() for p in model.parameters()), "train_steps": steps, "kept_step": best[1], "batch": batch,
           "seqlen": seq, "final_train_loss": loss.item(), "val_perplexity_fp16_weights": ppl,
           "data": "c4-format-pydoc train split (Python 3.11 documentation sections, PSF license)"},
          open(os.path.join(out, "training.json"), "w"), indent=1)
print("validation perplexity", ppl)
