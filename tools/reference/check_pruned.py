#!/usr/bin/env python3
"""Loads a folder written by `edgellm prune ... --write-check IDS` with transformers and compares its
logits on the same ids to EdgeLlm's (edgellm-logits.safetensors in that folder).

    python tools/reference/check_pruned.py PRUNED_FOLDER [--tolerance 1e-3] [--dtype float32]

Exits 0 when max |logit difference| <= tolerance, 1 otherwise, 2 when the folder cannot be loaded.
Needs: torch, transformers, safetensors.
"""
import argparse
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--dtype", default="float32", help="compute dtype (the FP16 weights are upcast; EdgeLlm computes in float32)")
    args = parser.parse_args()

    expected = load_file(f"{args.folder}/edgellm-logits.safetensors")
    ids, edgellm_logits = expected["input_ids"], expected["logits"].float()
    try:
        model = AutoModelForCausalLM.from_pretrained(args.folder, dtype=getattr(torch, args.dtype))
    except Exception as e:  # a config/weights mismatch is exactly what this check is for
        print(f"transformers could not load {args.folder}: {e}", file=sys.stderr)
        return 2
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0].float()
    if logits.shape != edgellm_logits.shape:
        print(f"shape mismatch: transformers {tuple(logits.shape)} vs edgellm {tuple(edgellm_logits.shape)}")
        return 1
    diff = (logits - edgellm_logits).abs()
    worst = int(diff.max(dim=1).values.argmax())
    print(f"max abs diff {diff.max().item():.3e} (position {worst}), mean {diff.mean().item():.3e}, "
          f"argmax agreement {(logits.argmax(-1) == edgellm_logits.argmax(-1)).float().mean().item():.3f}")
    return 0 if diff.max().item() <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
