#!/usr/bin/env python3
"""Loads a folder written by `edgellm prune ... --write-check IDS` with transformers and compares its
logits on the same ids to EdgeLlm's (edgellm-logits.safetensors in that folder).

    python tools/reference/check_pruned.py PRUNED_FOLDER [--tolerance 1e-3] [--dtype float32]

Uniform folders are loaded with AutoModelForCausalLM.from_pretrained, as any user would. A folder whose
config.json has `edgellm_layer_shapes` (FLAP `--structure global`) is one stock loaders cannot read: the
model is built from its config, each decoder layer's attention/MLP projections are replaced by nn.Linear
of the widths that layer lists, the weights are loaded strictly, and transformers' own forward runs it.
A QWenLMHeadModel folder needs Qwen's own modeling_qwen.py in the folder (copied from the source by
`edgellm prune`) and is loaded with trust_remote_code.

Exits 0 when max |logit difference| <= tolerance, 1 otherwise, 2 when the folder cannot be loaded.
Needs: torch, transformers, safetensors.
"""
import argparse
import glob
import json
import os
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForCausalLM

# Per architecture: the attention projections (q, k, v, output) and the MLP (input projections, output projection).
LAYOUTS = {
    "LlamaForCausalLM": (("q_proj", "k_proj", "v_proj", "o_proj"), (("gate_proj", "up_proj"), "down_proj")),
    "Qwen2ForCausalLM": (("q_proj", "k_proj", "v_proj", "o_proj"), (("gate_proj", "up_proj"), "down_proj")),
    "PhiForCausalLM": (("q_proj", "k_proj", "v_proj", "dense"), (("fc1",), "fc2")),
}


def linear(old: torch.nn.Linear, in_features: int, out_features: int) -> torch.nn.Linear:
    return torch.nn.Linear(in_features, out_features, bias=old.bias is not None, dtype=old.weight.dtype)


def load_non_uniform(folder: str, config: dict, dtype: torch.dtype) -> torch.nn.Module:
    arch = config["architectures"][0]
    if arch not in LAYOUTS:
        raise ValueError(f"per-layer shapes are not supported here for {arch}")
    (q_name, k_name, v_name, o_name), (mlp_in, mlp_out) = LAYOUTS[arch]
    hf_config = AutoConfig.from_pretrained(folder)
    model = AutoModelForCausalLM.from_config(hf_config).to(dtype)
    hidden = hf_config.hidden_size
    head_dim = getattr(hf_config, "head_dim", None) or hidden // hf_config.num_attention_heads
    shapes = config["edgellm_layer_shapes"]
    layers = model.model.layers
    if len(shapes) != len(layers):
        raise ValueError(f"{len(shapes)} layer shapes for {len(layers)} layers")
    for layer, shape in zip(layers, shapes):
        heads = shape["num_attention_heads"]
        kv_heads = shape.get("num_key_value_heads", heads)
        channels = shape["intermediate_size"]
        attn, mlp = layer.self_attn, layer.mlp
        setattr(attn, q_name, linear(getattr(attn, q_name), hidden, heads * head_dim))
        setattr(attn, k_name, linear(getattr(attn, k_name), hidden, kv_heads * head_dim))
        setattr(attn, v_name, linear(getattr(attn, v_name), hidden, kv_heads * head_dim))
        setattr(attn, o_name, linear(getattr(attn, o_name), heads * head_dim, hidden))
        # Query heads per KV head are the same in every layer (whole groups are pruned), so num_key_value_groups holds;
        # older transformers versions also keep these counts on the module.
        for name, value in (("num_heads", heads), ("num_key_value_heads", kv_heads)):
            if hasattr(attn, name):
                setattr(attn, name, value)
        for name in mlp_in:
            setattr(mlp, name, linear(getattr(mlp, name), hidden, channels))
        setattr(mlp, mlp_out, linear(getattr(mlp, mlp_out), channels, hidden))
        if hasattr(mlp, "intermediate_size"):
            mlp.intermediate_size = channels
    state = {}
    for shard in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
        if os.path.basename(shard) != "edgellm-logits.safetensors":
            state.update(load_file(shard))
    missing, unexpected = model.load_state_dict(state, strict=False)
    tied = getattr(hf_config, "tie_word_embeddings", False)
    missing = [m for m in missing if not (tied and m == "lm_head.weight")]
    if missing or unexpected:
        raise ValueError(f"weights do not match the per-layer shapes: missing {missing}, unexpected {unexpected}")
    if tied:
        model.tie_weights()
    return model


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--dtype", default="float32", help="compute dtype (the FP16 weights are upcast; EdgeLlm computes in float32)")
    args = parser.parse_args()

    expected = load_file(f"{args.folder}/edgellm-logits.safetensors")
    ids, edgellm_logits = expected["input_ids"], expected["logits"].float()
    with open(os.path.join(args.folder, "config.json")) as f:
        config = json.load(f)
    dtype = getattr(torch, args.dtype)
    try:
        if "edgellm_layer_shapes" in config:
            print("per-layer shapes (edgellm_layer_shapes): building each layer with its own widths; stock from_pretrained cannot load this folder")
            model = load_non_uniform(args.folder, config, dtype)
        else:
            remote = config["architectures"][0] == "QWenLMHeadModel"
            model = AutoModelForCausalLM.from_pretrained(args.folder, dtype=dtype, trust_remote_code=remote)
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
