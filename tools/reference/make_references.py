"""Reference outputs from Hugging Face transformers for EdgeLlm's own tests (run on the device machine).

  python3 tools/reference/make_references.py IN_DIR OUT_DIR

1. For each 16-bit hf-tiny fixture folder in IN_DIR: the logits of ids_len33 computed the plain way
   (from_pretrained(dtype=float32): weights upcast, rotary inv_freq in float32) ->
   OUT_DIR/plain-<folder>.safetensors.
2. A tiny Llama checkpoint written the way older transformers wrote configs (rope_theta and
   rope_scaling at the top level) with Llama-3.1 rope scaling, and its logits over 130 positions
   (past original_max_position_embeddings, where the scaling matters) -> OUT_DIR/llama31-scaled/.
"""
import json, os, sys, torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
meta = {"transformers": __import__("transformers").__version__, "torch": torch.__version__}

for name in sorted(os.listdir(src)):
    folder = os.path.join(src, name)
    if not os.path.isfile(os.path.join(folder, "expected.safetensors")) or name.endswith("float32"):
        continue
    ids = load_file(os.path.join(folder, "expected.safetensors"))["ids_len33"]
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    with torch.no_grad():
        logits = model(ids).logits[0].float().contiguous()
    save_file({"ids_len33": ids, "logits_len33": logits}, os.path.join(out, f"plain-{name}.safetensors"),
              metadata={**meta, "note": "from_pretrained(dtype=float32) on the 16-bit checkpoint"})
    print(name, "done")

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=1000, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=512,
                  rms_norm_eps=1e-5, tie_word_embeddings=False,
                  rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                   "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                   "original_max_position_embeddings": 64})
model = LlamaForCausalLM(cfg).eval()
with torch.no_grad():
    for p in model.parameters():
        p.normal_(0, 0.08)
    for n, p in model.named_parameters():
        if "norm" in n:
            p.fill_(1.0).add_(torch.randn_like(p) * 0.1)
model = model.to(torch.float16).to(torch.float32)
model.model.rotary_emb.__init__(cfg)  # recompute inv_freq in float32 after the dtype round trip
d = os.path.join(out, "llama31-scaled")
model.to(torch.float16).save_pretrained(d, safe_serialization=True)
model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
ids = torch.randint(0, 1000, (1, 130), generator=torch.Generator().manual_seed(1))
with torch.no_grad():
    logits = model(ids).logits[0].float().contiguous()
save_file({"ids_len130": ids, "logits_len130": logits}, os.path.join(d, "expected.safetensors"), metadata=meta)
# Rewrite the config the way transformers 4.x wrote it: rope_theta and rope_scaling at the top level.
c = json.load(open(os.path.join(d, "config.json")))
rp = c.pop("rope_parameters")
c["rope_theta"] = rp.pop("rope_theta")
c["rope_scaling"] = rp
json.dump(c, open(os.path.join(d, "config.json"), "w"), indent=2)
print(json.dumps(c, indent=1))
