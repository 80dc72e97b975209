#!/usr/bin/python3
"""Reference logits for the C++ engine tests, from an independent PyTorch (float64) forward pass.

Writes tests/model/data/reference_logits.json with, per model, the token ids of fixed prompts
(tokenised by tools/bpe.py), the full logits of the last position, the top-10 tokens, and the
held-out perplexity of the trained model. Also creates two tiny seeded random checkpoints
(tests/model/data/tiny-gpt2: fp16 GPT-2; tiny-llama: fp32 LLaMA with grouped-query attention and
RoPE) and their logits at every position, so the engine is checked on both architectures.

Run from the repository root:  /usr/bin/python3 tools/reference_logits.py
"""
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe import BpeTokenizer  # noqa: E402
from kjv_corpus import load_split  # noqa: E402
from safetensors_io import load_safetensors, save_safetensors  # noqa: E402

PROMPTS = [
    "In the beginning God created",
    "And Jesus answered and said unto them,",
    "The LORD is my shepherd; I shall not want. He maketh me to lie down in green pastures:",
]
DATA = "tests/model/data"


def t(array):
    return torch.tensor(np.asarray(array, dtype=np.float64))


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def attention(q, k, v, heads, kv_heads):
    """q: n x heads*d, k/v: n x kv_heads*d; causal; query head h reads kv head h // (heads/kv_heads)."""
    n = q.shape[0]
    d = q.shape[1] // heads
    q = q.view(n, heads, d).transpose(0, 1)
    k = k.view(n, kv_heads, d).transpose(0, 1).repeat_interleave(heads // kv_heads, dim=0)
    v = v.view(n, kv_heads, d).transpose(0, 1).repeat_interleave(heads // kv_heads, dim=0)
    scores = q @ k.transpose(1, 2) / math.sqrt(d)
    scores = scores.masked_fill(torch.triu(torch.ones(n, n, dtype=torch.bool), 1), float("-inf"))
    return (torch.softmax(scores, -1) @ v).transpose(0, 1).reshape(n, heads * d)


def gpt2_forward(w, cfg, ids):
    p = "transformer." if "transformer.wte.weight" in w else ""
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    x = t(w[p + "wte.weight"])[ids] + t(w[p + "wpe.weight"])[: len(ids)]
    for i in range(cfg["n_layer"]):
        g = lambda name: t(w[f"{p}h.{i}.{name}"])  # noqa: E731
        h = layer_norm(x, g("ln_1.weight"), g("ln_1.bias"), eps)
        q, k, v = (h @ g("attn.c_attn.weight") + g("attn.c_attn.bias")).split(cfg["n_embd"], dim=1)
        x = x + attention(q, k, v, cfg["n_head"], cfg["n_head"]) @ g("attn.c_proj.weight") + g("attn.c_proj.bias")
        h = layer_norm(x, g("ln_2.weight"), g("ln_2.bias"), eps)
        h = torch.nn.functional.gelu(h @ g("mlp.c_fc.weight") + g("mlp.c_fc.bias"), approximate="tanh")
        x = x + h @ g("mlp.c_proj.weight") + g("mlp.c_proj.bias")
    x = layer_norm(x, t(w[p + "ln_f.weight"]), t(w[p + "ln_f.bias"]), eps)
    head = t(w["lm_head.weight"]) if "lm_head.weight" in w else t(w[p + "wte.weight"])
    return x @ head.T


def rope(x, heads, theta):
    """Hugging Face LLaMA rotary embedding (rotate_half convention)."""
    n, width = x.shape
    d = width // heads
    inv_freq = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    angles = torch.arange(n, dtype=torch.float64)[:, None] * inv_freq[None, :]
    cos = torch.cat([angles.cos(), angles.cos()], -1)[:, None, :]
    sin = torch.cat([angles.sin(), angles.sin()], -1)[:, None, :]
    x = x.view(n, heads, d)
    rotated = torch.cat([-x[..., d // 2:], x[..., : d // 2]], -1)
    return (x * cos + rotated * sin).reshape(n, width)


def llama_forward(w, cfg, ids):
    heads, kv_heads = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    eps, theta = cfg["rms_norm_eps"], cfg["rope_theta"]
    x = t(w["model.embed_tokens.weight"])[ids]
    for i in range(cfg["num_hidden_layers"]):
        g = lambda name: t(w[f"model.layers.{i}.{name}"])  # noqa: E731
        h = rms_norm(x, g("input_layernorm.weight"), eps)
        q = rope(h @ g("self_attn.q_proj.weight").T, heads, theta)
        k = rope(h @ g("self_attn.k_proj.weight").T, kv_heads, theta)
        v = h @ g("self_attn.v_proj.weight").T
        x = x + attention(q, k, v, heads, kv_heads) @ g("self_attn.o_proj.weight").T
        h = rms_norm(x, g("post_attention_layernorm.weight"), eps)
        gate = torch.nn.functional.silu(h @ g("mlp.gate_proj.weight").T)
        x = x + (gate * (h @ g("mlp.up_proj.weight").T)) @ g("mlp.down_proj.weight").T
    x = rms_norm(x, t(w["model.norm.weight"]), eps)
    head = t(w["lm_head.weight"]) if "lm_head.weight" in w else t(w["model.embed_tokens.weight"])
    return x @ head.T


def write_tiny_gpt2(folder, rng):
    cfg = {"model_type": "gpt2", "vocab_size": 64, "n_positions": 32, "n_embd": 32, "n_layer": 2, "n_head": 4,
           "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}
    r = lambda *shape, s=0.3: (rng.standard_normal(shape) * s).astype(np.float16)  # noqa: E731
    w = {"wte.weight": r(64, 32), "wpe.weight": r(32, 32), "ln_f.weight": (1 + r(32, s=0.1)), "ln_f.bias": r(32, s=0.1)}
    for i in range(2):
        p = f"h.{i}."
        w.update({p + "ln_1.weight": 1 + r(32, s=0.1), p + "ln_1.bias": r(32, s=0.1), p + "attn.c_attn.weight": r(32, 96),
                  p + "attn.c_attn.bias": r(96, s=0.1), p + "attn.c_proj.weight": r(32, 32), p + "attn.c_proj.bias": r(32, s=0.1),
                  p + "ln_2.weight": 1 + r(32, s=0.1), p + "ln_2.bias": r(32, s=0.1), p + "mlp.c_fc.weight": r(32, 128),
                  p + "mlp.c_fc.bias": r(128, s=0.1), p + "mlp.c_proj.weight": r(128, 32), p + "mlp.c_proj.bias": r(32, s=0.1)})
    return save_tiny(folder, cfg, w)


def write_tiny_llama(folder, rng):
    cfg = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 64, "hidden_size": 32,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 48,
           "max_position_embeddings": 32, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": False,
           "hidden_act": "silu"}
    r = lambda *shape, s=0.3: (rng.standard_normal(shape) * s).astype(np.float32)  # noqa: E731
    w = {"model.embed_tokens.weight": r(64, 32), "model.norm.weight": 1 + r(32, s=0.1), "lm_head.weight": r(64, 32)}
    for i in range(2):
        p = f"model.layers.{i}."
        w.update({p + "input_layernorm.weight": 1 + r(32, s=0.1), p + "self_attn.q_proj.weight": r(32, 32),
                  p + "self_attn.k_proj.weight": r(16, 32), p + "self_attn.v_proj.weight": r(16, 32),
                  p + "self_attn.o_proj.weight": r(32, 32), p + "post_attention_layernorm.weight": 1 + r(32, s=0.1),
                  p + "mlp.gate_proj.weight": r(48, 32), p + "mlp.up_proj.weight": r(48, 32), p + "mlp.down_proj.weight": r(32, 48)})
    return save_tiny(folder, cfg, w)


def save_tiny(folder, cfg, w):
    os.makedirs(folder, exist_ok=True)
    save_safetensors(os.path.join(folder, "model.safetensors"), w, {"format": "pt"})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    return cfg, load_safetensors(os.path.join(folder, "model.safetensors"))


def rounded(values):
    return [float(f"{v:.7g}") for v in values]


def tiny_entry(name, cfg, w, forward):
    ids = [(i * 11 + 5) % 64 for i in range(20)]
    logits = forward(w, cfg, ids)
    return {"model": f"{DATA}/{name}", "tokens": ids, "logits_all_positions": [rounded(row.tolist()) for row in logits]}


def kjv_entries(folder):
    cfg = json.load(open(os.path.join(folder, "config.json")))
    w = load_safetensors(os.path.join(folder, "model.safetensors"))
    tokenizer = BpeTokenizer.load(folder)
    prompts = []
    for text in PROMPTS:
        ids = tokenizer.encode(text)
        last = gpt2_forward(w, cfg, ids)[-1]
        top = torch.topk(last, 10).indices.tolist()
        prompts.append({"text": text, "tokens": ids, "last_logits": rounded(last.tolist()), "top10": top})
    greedy = list(prompts[0]["tokens"])
    for _ in range(24):
        greedy.append(int(torch.argmax(gpt2_forward(w, cfg, greedy)[-1])))
    prompts[0]["greedy_continuation"] = greedy[len(prompts[0]["tokens"]):]
    prompts[0]["greedy_text"] = tokenizer.decode(prompts[0]["greedy_continuation"])
    heldout = tokenizer.encode(load_split()[1])[:1025]
    logits = gpt2_forward(w, cfg, heldout[:1024])
    nll = torch.nn.functional.cross_entropy(logits, torch.tensor(heldout[1:1025])).item()
    return {"model": folder, "prompts": prompts,
            "heldout_first_1024": {"tokens": heldout, "perplexity": math.exp(nll)}}


def main():
    rng = np.random.default_rng(20250101)
    out = {"tolerance_note": "float64 PyTorch forward of the stored (fp16/fp32) weights; logits rounded to 7 digits"}
    cfg, w = write_tiny_gpt2(f"{DATA}/tiny-gpt2", rng)
    out["tiny_gpt2"] = tiny_entry("tiny-gpt2", cfg, w, gpt2_forward)
    cfg, w = write_tiny_llama(f"{DATA}/tiny-llama", rng)
    out["tiny_llama"] = tiny_entry("tiny-llama", cfg, w, llama_forward)
    if os.path.exists("models/kjv-gpt2/model.safetensors"):
        out["kjv_gpt2"] = kjv_entries("models/kjv-gpt2")
    else:
        print("models/kjv-gpt2 not trained yet: writing the tiny models only")
    with open(f"{DATA}/reference_logits.json", "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print("wrote", f"{DATA}/reference_logits.json")


if __name__ == "__main__":
    main()
