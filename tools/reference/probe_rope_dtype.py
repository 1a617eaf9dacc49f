"""Probe: which inv_freq does transformers use when a 16-bit checkpoint is run in float32?

Run on the device machine: python3 tools/reference/probe_rope_dtype.py FIXTURE_DIR
Prints, for several ways of loading, the inv_freq dtype and the max |logit - expected|.
"""
import sys, torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

folder = sys.argv[1]
exp = load_file(f"{folder}/expected.safetensors")
ids = exp["ids_len7"]

def report(name, model):
    model.eval()
    rot = model.model.rotary_emb
    with torch.no_grad():
        logits = model(ids).logits[0].float()
    diff = (logits - exp["logits_len7"]).abs().max().item()
    print(f"{name}: inv_freq dtype={rot.inv_freq.dtype} first={rot.inv_freq[:3].tolist()} max|dlogit|={diff:.3g}")

report("dtype=float32", AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32))
report("dtype=auto then .float()", AutoModelForCausalLM.from_pretrained(folder, dtype="auto").float())
report("dtype=float16 then .float()", AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float16).float())
report("dtype=bfloat16 then .float()", AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16).float())
