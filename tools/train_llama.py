#!/usr/bin/python3
"""Train the project's LLaMA-architecture model (models/kjv-llama) on KJV text plus the synthetic
long-range mixture of tools/long_context_data.py, resumably, and export it in Hugging Face layout.

The model is Hugging Face LlamaForCausalLM exactly: RMSNorm (pre-norm, weight * x / rms), RoPE
with the rotate_half convention (theta 10000, cos/sin of the position times 1/theta^(2i/d),
duplicated over both halves), grouped-query attention (query head h reads key/value head
h // (heads / kv_heads)), SiLU-gated MLP down(silu(gate(x)) * up(x)), no biases, tied input and
output embeddings. `--check-export DIR` proves the export: the logits of this module on the
exported fp16 weights equal those of tools/reference_logits.py llama_forward (the independent
float64 forward the C++ tests agree with).

Schedule. Training runs over a planned number of tokens, with a short-to-long curriculum of
sequence lengths (--curriculum, fractions of the planned tokens; the tokens per step stay about
constant, so the batch shrinks as the sequences grow) and a warm-up / stable / decay learning rate
(linear warm-up, constant peak, cosine decay to --min-lr-ratio over the last --decay-fraction).
Both are functions of tokens done / planned tokens, which the checkpoint stores. Without
--total-tokens the plan follows --time-budget-min: after every logged step the planned tokens are
re-solved so that the remaining phases, at the seconds per token measured for each sequence length
(a short calibration at the start, then a running average), end when the wall-clock budget does.
Wall-clock time used is stored in the checkpoint too, so a resumed run keeps the same budget.
The checkpoint at the start of the decay is also kept (pre_decay.pt): a later, longer run can
resume from it with a larger budget without re-warming a decayed model.

Checkpoint (--run-dir, default /work/train-run): checkpoint.pt with fp32 weights, AdamW state, the
plan, the data stream's generator state and the log, written atomically (temporary file, then
rename) every --checkpoint-min minutes and at the end. `--resume PATH` continues from one.
`--export DIR` writes config.json, model.safetensors (fp16, HF names, lm_head omitted as tied),
tokenizer.model, training_log.txt and training_result.json (at the end of training, or at once
when given with --resume and --steps-this-run 0).

Periodic evaluation (printed to the log): held-out KJV perplexity over all non-overlapping
1024-token windows of the held-out books (Ruth, Eccl, Jonah, Gal, Jas), also normalised to the
GPT-2 model's held-out token count (19,827) for a like-for-like comparison; a needle probe built
exactly like `mpcache eval` (the four built-in needles in held-out haystacks, lengths 512/1024/2048,
depths 0.1/0.5/0.9, exact match of the first 6 answer tokens under greedy decoding, computed by
teacher forcing: all argmaxes equal the answer); and 30 greedy tokens of a fixed prompt.

See models/kjv-llama/TRAINING.md for the commands.
"""
import argparse
import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # waiting OpenMP threads sleep: much faster on a shared CPU
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import load_safetensors, save_safetensors  # noqa: E402

GPT2_HELDOUT_TOKENS = 19827  # held-out token count of models/kjv-gpt2 (its perplexity ~90 is per those)


# ---- model ---------------------------------------------------------------------------------------

@dataclass
class LlamaConfig:
    vocab_size: int = 4096
    hidden_size: int = 256
    num_hidden_layers: int = 6
    num_attention_heads: int = 8
    num_key_value_heads: int = 4
    head_dim: int = 32
    intermediate_size: int = 704
    max_position_embeddings: int = 2048
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0

    def hf_config(self, bos_id=1, eos_id=2):
        return {"model_type": "llama", "architectures": ["LlamaForCausalLM"], **asdict(self),
                "tie_word_embeddings": True, "hidden_act": "silu", "attention_bias": False,
                "mlp_bias": False, "rope_scaling": None, "bos_token_id": bos_id, "eos_token_id": eos_id,
                "torch_dtype": "float16"}


class RMSNorm(nn.Module):
    def __init__(self, size, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(size))

    def forward(self, x):
        dtype = x.dtype
        x = x.to(torch.promote_types(dtype, torch.float32))  # HF normalises in (at least) fp32
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rope_tables(length, head_dim, theta, device, dtype):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64, device=device) / head_dim))
    angles = torch.arange(length, dtype=torch.float64, device=device)[:, None] * inv_freq[None, :]
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def causal_attention(q, k, v, chunk):
    """softmax(q k^T / sqrt(d) + causal mask) v for q, k, v of shape (batch, heads, T, d).

    Query blocks of `chunk` rows only score the keys up to their own end, which skips most of the
    masked upper triangle (torch 1.13 has no fused attention); the result is the same."""
    t, d = q.shape[-2], q.shape[-1]
    scale = 1.0 / math.sqrt(d)
    soft = torch.promote_types(q.dtype, torch.float32)  # softmax in fp32 (fp64 for the export check)
    if chunk <= 0 or t <= chunk:
        scores = (q @ k.transpose(-2, -1)) * scale
        mask = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
        return torch.softmax(scores.to(soft), dim=-1).to(v.dtype) @ v
    outs = []
    for start in range(0, t, chunk):
        end = min(t, start + chunk)
        scores = (q[..., start:end, :] @ k[..., :end, :].transpose(-2, -1)) * scale
        mask = torch.ones(end - start, end, dtype=torch.bool, device=q.device).triu(start + 1)
        scores = scores.masked_fill(mask, float("-inf"))
        outs.append(torch.softmax(scores.to(soft), dim=-1).to(v.dtype) @ v[..., :end, :])
    return torch.cat(outs, dim=-2)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, c.hidden_size, bias=False)

    def forward(self, x, cos, sin, chunk):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        cos, sin = cos.to(q.dtype), sin.to(q.dtype)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.heads // self.kv_heads
        if rep > 1:  # HF repeat_kv: query head h reads key/value head h // rep
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        out = causal_attention(q, k, v, chunk)
        return self.o_proj(out.transpose(1, 2).reshape(b, t, self.heads * self.head_dim))


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = Mlp(c)

    def forward(self, x, cos, sin, chunk):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, chunk)
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    """LlamaForCausalLM with tied embeddings; parameter names follow HF's under `model.`."""

    def __init__(self, c):
        super().__init__()
        self.config = c
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([Layer(c) for _ in range(c.num_hidden_layers)])
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.attn_chunk = 512
        self._rope = {}
        for name, p in self.named_parameters():
            if p.dim() == 2:  # GPT-2 style: N(0, 0.02), residual projections scaled by 1/sqrt(2 layers)
                std = 0.02 / math.sqrt(2 * c.num_hidden_layers) if name.endswith(("o_proj.weight", "down_proj.weight")) else 0.02
                nn.init.normal_(p, std=std)

    def rope(self, t, device, dtype):
        key = (t, str(device), dtype)
        if key not in self._rope:
            cos, sin = rope_tables(t, self.config.head_dim, self.config.rope_theta, device, dtype)
            self._rope = {key: (cos, sin)}
        return self._rope[key]

    def forward(self, ids):
        x = self.embed_tokens(ids)
        cos, sin = self.rope(ids.shape[1], ids.device, x.dtype if x.dtype == torch.float64 else torch.float32)
        for layer in self.layers:
            x = layer(x, cos, sin, self.attn_chunk)
        return self.norm(x) @ self.embed_tokens.weight.T

    def hf_state(self):
        out = {}
        for name, p in self.state_dict().items():
            out["model." + name] = p.detach()
        return out

    def load_hf_state(self, tensors):
        own = self.state_dict()
        missing = [n for n in own if "model." + n not in tensors]
        extra = [n for n in tensors if n[len("model."):] not in own]
        if missing or extra:
            raise ValueError(f"tensor names differ: missing {missing[:4]}, unexpected {extra[:4]}")
        self.load_state_dict({n: torch.as_tensor(np.asarray(tensors["model." + n])) for n in own})


# ---- data and evaluation ------------------------------------------------------------------------

class Tokenizer:
    def __init__(self, path):
        import sentencepiece as spm
        self.path = path
        self.sp = spm.SentencePieceProcessor(model_file=path)
        self.vocab_size = self.sp.get_piece_size()

    def encode(self, text):
        return self.sp.encode(text)

    def decode(self, ids):
        return self.sp.decode(ids)


def autocast(device, dtype):
    if dtype == "fp32":
        return torch.autocast(device.type, enabled=False)
    return torch.autocast(device.type, dtype=torch.bfloat16 if dtype == "bf16" else torch.float16)


@torch.no_grad()
def heldout_perplexity(model, tokens, device, dtype, window=1024):
    """Mean next-token loss over all non-overlapping `window`-token windows of the held-out stream
    (targets are the following tokens), and the token count it covers."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(tokens) - 1, window):
        chunk = tokens[start:start + window + 1]
        if len(chunk) < 2:
            break
        x = torch.tensor(chunk[:-1], device=device)[None]
        y = torch.tensor(chunk[1:], device=device)
        with autocast(device, dtype):
            logits = model(x)[0]
        total += F.cross_entropy(logits.float(), y, reduction="sum").item()
        count += len(chunk) - 1
    model.train()
    return total, count


def needle_cases(tokenizer, heldout_lines, lengths, depths, seed, answer_tokens=6):
    """The C++ eval's cases: per length and built-in needle one haystack start, every depth."""
    from long_context_data import BUILTIN_NEEDLES, make_needle_case
    rng = np.random.default_rng(seed)
    newline = tokenizer.encode("\n")
    cases = []
    for length in lengths:
        for k, (cue, answer) in enumerate(BUILTIN_NEEDLES):
            first = int(rng.integers(len(heldout_lines)))
            c, a = tokenizer.encode(cue), tokenizer.encode(answer)
            for depth in depths:
                prompt, expected = make_needle_case(heldout_lines, first, c, a, newline, length, depth, answer_tokens)
                assert len(prompt) + len(expected) <= length  # one less when a cut line would hold only its newline
                cases.append({"length": length, "needle": k, "depth": depth, "prompt": prompt, "expected": expected})
    return cases


@torch.no_grad()
def needle_probe(model, cases, device, dtype):
    """Greedy exact match of each case's answer, by teacher forcing (greedy decoding reproduces the
    answer exactly when the argmax after the prompt and after every answer prefix is the next
    answer token). Returns {length: (exact, cases, matched tokens / expected tokens)}."""
    model.eval()
    by_length = {}
    for case in cases:
        by_length.setdefault(case["length"], []).append(case)
    out = {}
    for length, group in sorted(by_length.items()):
        exact, matched, expected_total = 0, 0, 0
        by_size = {}
        for c in group:
            by_size.setdefault(len(c["prompt"]) + len(c["expected"]), []).append(c)
        batches = [same[i:i + 4] for same in by_size.values() for i in range(0, len(same), 4)]
        for part in batches:
            x = torch.tensor([c["prompt"] + c["expected"][:-1] for c in part], device=device)
            with autocast(device, dtype):
                logits = model(x)
            for row, c in zip(logits, part):
                n = len(c["expected"])
                guess = row[-n:].float().argmax(-1).tolist()
                hits = [g == e for g, e in zip(guess, c["expected"])]
                # greedy decoding stops matching at the first miss
                first_miss = hits.index(False) if False in hits else n
                matched += first_miss
                expected_total += n
                exact += first_miss == n
        out[length] = (exact, len(group), matched / expected_total)
    model.train()
    return out


@torch.no_grad()
def repeat_probe(model, tokens, device, dtype, span=64, gap=900, cases=8):
    """Mean loss on `span` held-out tokens and on their verbatim repeat `gap` tokens later: a model
    with an induction circuit predicts the repeat far better than the first occurrence."""
    model.eval()
    first, again = [], []
    for k in range(cases):
        start = k * (len(tokens) - 2 * span - gap) // cases
        a, f = tokens[start:start + span], tokens[start + span:start + span + gap]
        seq = a + f + a
        x = torch.tensor(seq[:-1], device=device)[None]
        with autocast(device, dtype):
            logits = model(x)[0].float()
        losses = F.cross_entropy(logits, torch.tensor(seq[1:], device=device), reduction="none")
        first.append(losses[:span - 1].mean().item())
        again.append(losses[span + gap + 1:].mean().item())  # the repeat's first token can't be known
    model.train()
    return float(np.mean(first)), float(np.mean(again))


@torch.no_grad()
def greedy(model, tokenizer, prompt, count, device):
    model.eval()
    ids = tokenizer.encode(prompt)
    for _ in range(count):
        logits = model(torch.tensor(ids, device=device)[None])[0, -1]
        ids.append(int(logits.float().argmax()))
    model.train()
    return tokenizer.decode(ids[len(tokenizer.encode(prompt)):])


# ---- schedule -----------------------------------------------------------------------------------

def parse_curriculum(text):
    phases = []
    for part in text.split(","):
        length, frac = part.split(":")
        phases.append((int(length), float(frac)))
    total = sum(f for _, f in phases)
    return [(length, f / total) for length, f in phases]


def phase_at(phases, progress):
    edge = 0.0
    for length, frac in phases:
        edge += frac
        if progress < edge:
            return length
    return phases[-1][0]


def lr_at(progress, step, args):
    if step < args.warmup_steps:
        return args.lr * (step + 1) / args.warmup_steps
    decay_start = 1.0 - args.decay_fraction
    if progress < decay_start:
        return args.lr
    t = min(1.0, (progress - decay_start) / args.decay_fraction)
    return args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


def seconds_needed(planned, done, phases, seconds_per_token):
    need, edge = 0.0, 0.0
    for length, frac in phases:
        lo, hi = edge * planned, (edge + frac) * planned
        edge += frac
        need += max(0.0, hi - max(lo, done)) * seconds_per_token[length]
    return need


def replan(state, phases, seconds_left):
    """Planned tokens such that the remaining phases take `seconds_left` at the measured speeds."""
    done, spt = state["tokens"], state["seconds_per_token"]
    lo, hi = float(done), float(done) + 1.0
    while seconds_needed(hi, done, phases, spt) < seconds_left:
        hi *= 2.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if seconds_needed(mid, done, phases, spt) < seconds_left else (lo, mid)
    return int(lo)


# ---- checkpoint and export ----------------------------------------------------------------------

def save_checkpoint(path, model, opt, state, stream, args):
    tmp = path + ".tmp"
    torch.save({"model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                "optimizer": opt.state_dict(), "state": state, "data_state": stream.state(),
                "torch_rng": torch.get_rng_state(), "args": vars(args)}, tmp)
    os.replace(tmp, path)


def export(out_dir, model, tokenizer, state, args):
    os.makedirs(out_dir, exist_ok=True)
    tensors = {}
    for name, t in model.hf_state().items():
        a = t.detach().cpu().to(torch.float16)
        if not torch.isfinite(a).all():
            raise ValueError(f"{name} is not finite in fp16")
        tensors[name] = a.numpy()
    save_safetensors(os.path.join(out_dir, "model.safetensors"), tensors, {"format": "pt"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(model.config.hf_config(), f, indent=2)
        f.write("\n")
    if os.path.abspath(tokenizer.path) != os.path.abspath(os.path.join(out_dir, "tokenizer.model")):
        shutil.copy(tokenizer.path, os.path.join(out_dir, "tokenizer.model"))
    with open(os.path.join(out_dir, "training_log.txt"), "w") as f:
        f.write("\n".join(state["log"]) + "\n")
    result = {k: state[k] for k in ("step", "tokens", "planned_tokens", "elapsed_s", "earlier_tokens") if k in state}
    result["minutes"] = state["elapsed_s"] / 60
    result["evaluations"] = state["evals"]
    result["args"] = {k: v for k, v in vars(args).items() if k not in ("resume",)}
    with open(os.path.join(out_dir, "training_result.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")


SHAPE_OF_CONFIG = {"hidden": "hidden_size", "layers": "num_hidden_layers", "heads": "num_attention_heads",
                   "kv_heads": "num_key_value_heads", "mlp": "intermediate_size", "max_positions": "max_position_embeddings"}


def shape_from_export(args):
    """The model shape of --init-from's config.json replaces the shape flags."""
    with open(os.path.join(args.init_from, "config.json")) as f:
        cfg = json.load(f)
    for flag, key in SHAPE_OF_CONFIG.items():
        setattr(args, flag, cfg[key])


def init_from_export(model, folder):
    """Loads an exported folder's fp16 weights into `model`; returns the tokens it had been trained on."""
    tensors = load_safetensors(os.path.join(folder, "model.safetensors"))
    model.load_hf_state({name: np.asarray(t, dtype=np.float32) for name, t in tensors.items()})
    result_path = os.path.join(folder, "training_result.json")
    if not os.path.exists(result_path):
        return 0
    with open(result_path) as f:
        result = json.load(f)
    return result.get("tokens", 0) + result.get("earlier_tokens", 0)


def check_export(folder, checkpoint_model=None):
    """Compares this module's logits on the exported weights with reference_logits.llama_forward."""
    import reference_logits
    cfg = json.load(open(os.path.join(folder, "config.json")))
    w = load_safetensors(os.path.join(folder, "model.safetensors"))
    for key in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                "head_dim", "intermediate_size", "max_position_embeddings", "rms_norm_eps", "rope_theta"):
        assert key in cfg, key
    assert cfg["model_type"] == "llama" and cfg["tie_word_embeddings"] and cfg["hidden_act"] == "silu"
    assert cfg["head_dim"] * cfg["num_attention_heads"] == cfg["hidden_size"], "reference assumes heads * head_dim == hidden"
    c = LlamaConfig(**{k: cfg[k] for k in LlamaConfig.__dataclass_fields__})
    expected = {"model.embed_tokens.weight", "model.norm.weight"}
    for i in range(c.num_hidden_layers):
        p = f"model.layers.{i}."
        expected |= {p + n for n in ("input_layernorm.weight", "post_attention_layernorm.weight",
                                     "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                                     "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
                                     "mlp.down_proj.weight")}
    assert set(w) == expected, f"tensor names: extra {set(w) - expected}, missing {expected - set(w)}"
    assert all(a.dtype == np.float16 for a in w.values())
    model = Llama(c).double()
    model.load_hf_state({k: v.astype(np.float64) for k, v in w.items()})
    model.attn_chunk = 48  # exercise the blocked attention path too
    tok = Tokenizer(os.path.join(folder, "tokenizer.model"))
    rng = np.random.default_rng(7)
    sequences = [tok.encode("In the beginning God created the heaven and the earth.\nAnd the earth was"),
                 rng.integers(0, c.vocab_size, 200).tolist()]
    worst = 0.0
    for ids in sequences:
        ref = reference_logits.llama_forward(w, cfg, ids)
        with torch.no_grad():
            ours = model(torch.tensor(ids)[None])[0]
        diff = (ours - ref).abs().max().item()
        scale = ref.abs().max().item()
        worst = max(worst, diff / scale)
        line = f"check-export: {len(ids)} tokens, max |ours - llama_forward| = {diff:.3e} (logits up to {scale:.2f})"
        if checkpoint_model is not None:
            with torch.no_grad():
                fp32 = checkpoint_model.float()(torch.tensor(ids)[None])[0].double()
            line += f"; fp32 training weights vs fp16 export: {(fp32 - ref).abs().max().item():.3e}"
        print(line, flush=True)
    if worst > 1e-9:
        raise SystemExit(f"check-export FAILED: relative difference {worst:.3e}")
    print("check-export OK: the exported weights give llama_forward's logits", flush=True)


# ---- training -----------------------------------------------------------------------------------

RESUMABLE_OVERRIDES = {"time_budget_min", "total_tokens", "stop_after_min", "export", "run_dir", "eval_every_min",
                       "checkpoint_min", "device", "threads", "steps_this_run", "log_every"}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", default="models/kjv-llama/tokenizer.model")
    ap.add_argument("--run-dir", default="/work/train-run", help="checkpoints go here (outside the repository)")
    ap.add_argument("--resume", help="checkpoint to continue from")
    ap.add_argument("--init-from", metavar="DIR",
                    help="start a new schedule from an exported model folder (its weights and shape; a fresh "
                         "optimizer), e.g. the committed models/kjv-llama when no checkpoint is at hand")
    ap.add_argument("--export", help="folder for the Hugging Face export (written at the end)")
    ap.add_argument("--check-export", metavar="DIR", help="verify an exported folder against llama_forward and exit")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"], help="autocast compute type")
    ap.add_argument("--threads", type=int, default=2)
    # model
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--mlp", type=int, default=704)
    ap.add_argument("--max-positions", type=int, default=2048)
    ap.add_argument("--attn-chunk", type=int, default=512)
    # schedule
    ap.add_argument("--curriculum", default="256:0.2,512:0.2,1024:0.3,2048:0.3",
                    help="sequence length:fraction of the planned tokens, in order")
    ap.add_argument("--tokens-per-step", type=int, default=4096)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-ratio", type=float, default=0.1)
    ap.add_argument("--warmup-steps", type=int, default=100)
    ap.add_argument("--decay-fraction", type=float, default=0.2)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--total-tokens", type=int, default=0, help="fixed plan; 0: plan from --time-budget-min")
    ap.add_argument("--time-budget-min", type=float, default=150.0, help="wall clock for the whole schedule")
    ap.add_argument("--stop-after-min", type=float, default=0.0, help="leave this invocation after N minutes (0: never)")
    ap.add_argument("--steps-this-run", type=int, default=-1, help="stop after N steps in this invocation (-1: never)")
    # data
    ap.add_argument("--synthetic-fraction", type=float, default=0.6)
    ap.add_argument("--passkey-prob", type=float, default=0.3)
    ap.add_argument("--copy-prob", type=float, default=0.3)
    ap.add_argument("--repeat-fraction", type=float, default=0.0,
                    help="share of documents that plant and repeat random-token spans (induction warm-up)")
    ap.add_argument("--answer-weight", type=float, default=4.0)
    ap.add_argument("--copy-weight", type=float, default=2.0)
    # bookkeeping
    ap.add_argument("--eval-every-min", type=float, default=15.0)
    ap.add_argument("--checkpoint-min", type=float, default=10.0)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    given = set()
    for action in ap._actions:
        if any(a == o or a.startswith(o + "=") for a in sys.argv[1:] for o in action.option_strings):
            given.add(action.dest)
    return args, given


def main():
    args, given = parse_args()
    torch.set_num_threads(args.threads)
    if args.check_export and not args.resume:
        check_export(args.check_export)
        return
    ckpt = None
    if args.resume:
        ckpt = torch.load(args.resume, map_location="cpu", weights_only=False)
        saved = dict(ckpt["args"])
        for key in given & RESUMABLE_OVERRIDES:
            saved[key] = getattr(args, key)
        saved["resume"], saved["check_export"] = args.resume, args.check_export
        for key in ("export", "stop_after_min", "steps_this_run"):  # per invocation
            if key not in given:
                saved[key] = getattr(args, key)
        for key, value in vars(args).items():  # flags newer than the checkpoint take their defaults
            saved.setdefault(key, value)
        args = argparse.Namespace(**saved)
    if args.init_from:
        if args.resume:
            raise SystemExit("--init-from starts a new schedule from exported weights; it cannot be combined with --resume")
        shape_from_export(args)
    device = torch.device(args.device)
    torch.manual_seed(args.seed)

    from kjv_corpus import load_split
    from long_context_data import DocumentStream
    tokenizer = Tokenizer(args.tokenizer)
    train_text, heldout_text = load_split()
    heldout_lines = [tokenizer.encode(line + "\n") for line in heldout_text.splitlines() if line]
    heldout = [t for line in heldout_lines for t in line]
    stream = DocumentStream(tokenizer.encode, train_text.splitlines(), args.seed, args.synthetic_fraction,
                            args.passkey_prob, args.copy_prob, args.answer_weight, args.copy_weight,
                            args.repeat_fraction)
    cases = needle_cases(tokenizer, heldout_lines, [512, 1024, 2048], [0.1, 0.5, 0.9], args.seed)

    config = LlamaConfig(vocab_size=tokenizer.vocab_size, hidden_size=args.hidden, num_hidden_layers=args.layers,
                         num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
                         head_dim=args.hidden // args.heads, intermediate_size=args.mlp,
                         max_position_embeddings=args.max_positions)
    model = Llama(config)
    model.attn_chunk = args.attn_chunk
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    phases = parse_curriculum(args.curriculum)
    if ckpt:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        stream.set_state(ckpt["data_state"])
        torch.set_rng_state(ckpt["torch_rng"])
        state = ckpt["state"]
        del ckpt
    else:
        state = {"step": 0, "tokens": 0, "elapsed_s": 0.0, "planned_tokens": args.total_tokens,
                 "seconds_per_token": {}, "calibration": {}, "log": [], "evals": [], "pre_decay_saved": False}
        if args.init_from:
            state["earlier_tokens"] = init_from_export(model, args.init_from)
    model.to(device)
    for group_state in opt.state.values():
        for k, v in group_state.items():
            if torch.is_tensor(v) and k != "step":
                group_state[k] = v.to(device)

    def log(text):
        line = f"[{time.strftime('%H:%M:%S')}] {text}"
        print(line, flush=True)
        state["log"].append(line)

    if args.check_export and args.resume:
        check_export(args.check_export, model.cpu())
        return
    n_params = sum(p.numel() for p in model.parameters())
    origin = f"resumed from {args.resume}" if args.resume else (
        f"new schedule from {args.init_from} ({state['earlier_tokens']} tokens trained before)" if args.init_from else "new run")
    log(f"{origin}: {n_params} parameters, config {asdict(config)}")
    log(f"train lines {len(stream.line_tokens)}, train tokens {len(stream.stream)}, held-out tokens {len(heldout)}, "
        f"curriculum {phases}, device {device}, autocast {args.dtype}")
    os.makedirs(args.run_dir, exist_ok=True)
    ckpt_path = os.path.join(args.run_dir, "checkpoint.pt")

    def step_batch(length):
        batch = max(1, args.tokens_per_step // length)
        tokens, weights, kinds = stream.batch(batch, length + 1)
        return (torch.from_numpy(tokens).to(device), torch.from_numpy(weights[:, 1:]).to(device), kinds)

    def sync():  # honest step times on an asynchronous device
        if device.type == "cuda":
            torch.cuda.synchronize()

    def train_step(x, w):
        with autocast(device, args.dtype):
            logits = model(x[:, :-1])
        losses = F.cross_entropy(logits.float().reshape(-1, config.vocab_size), x[:, 1:].reshape(-1),
                                 reduction="none").view(w.shape)
        loss = (losses * w).sum() / w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        return losses.detach(), norm

    if not state["calibration"]:  # seconds per token at each length: forward + backward of a full batch, no update
        for length, _ in phases:
            x, w, _ = step_batch(length)
            times = []
            for _ in range(2):
                sync()
                t0 = time.time()
                train_step(x, w)
                sync()
                times.append(time.time() - t0)
            state["calibration"][length] = min(times) / (x.shape[0] * length)
        opt.zero_grad(set_to_none=True)
        log("calibration, seconds per token: " + ", ".join(f"{k}: {v * 1e3:.3f} ms" for k, v in state["calibration"].items()))

    def refresh_speeds(length, measured):
        calib = state["calibration"]
        load = measured / calib[length]
        state["seconds_per_token"] = {k: v * load for k, v in calib.items()}

    def evaluate(final=False):
        t0 = time.time()
        nll, count = heldout_perplexity(model, heldout, device, args.dtype)
        probe = needle_probe(model, cases, device, args.dtype)
        repeat_first, repeat_again = repeat_probe(model, heldout, device, args.dtype)
        sample = greedy(model, tokenizer, "In the beginning God created", 30, device)
        result = {"step": state["step"], "tokens": state["tokens"], "heldout_ppl": math.exp(nll / count),
                  "heldout_ppl_gpt2_tokens": math.exp(nll / GPT2_HELDOUT_TOKENS),
                  "needle": {str(k): {"exact": e, "cases": n, "token_accuracy": round(a, 3)} for k, (e, n, a) in probe.items()},
                  "repeat_loss": {"first": round(repeat_first, 3), "repeat": round(repeat_again, 3)},
                  "sample": sample, "final": final}
        state["evals"].append(result)
        needles = ", ".join(f"{k}: {e}/{n} ({a:.2f})" for k, (e, n, a) in probe.items())
        log(f"eval step {state['step']} tokens {state['tokens']}: held-out ppl {result['heldout_ppl']:.2f} "
            f"({result['heldout_ppl_gpt2_tokens']:.2f} per GPT-2 token), needle exact {needles}, "
            f"repeat loss {repeat_first:.2f} -> {repeat_again:.2f}; "
            f"{time.time() - t0:.0f}s")
        log(f"  greedy: In the beginning God created|{sample!r}")
        return time.time() - t0

    budget_s = args.time_budget_min * 60
    run_start = time.time()
    base_elapsed = state["elapsed_s"]
    last_ckpt = time.time()
    last_eval = time.time()
    # first guess of one evaluation's cost: its forward tokens at a third of the training time per token
    longest = state["calibration"][max(state["calibration"])]
    eval_seconds = state.get("eval_seconds", (len(heldout) + sum(len(c["prompt"]) for c in cases)) * longest / 3)
    step_times, steps_here = [], 0
    window_losses, window_answer, window_copy = [], [], []
    if not args.total_tokens and not state["planned_tokens"]:
        state["seconds_per_token"] = dict(state["calibration"])
    while True:
        state["elapsed_s"] = base_elapsed + (time.time() - run_start)
        if not args.total_tokens:
            left = budget_s - state["elapsed_s"]
            evals_left = max(0.0, left / (args.eval_every_min * 60))
            left -= (evals_left + 1) * eval_seconds + 10  # periodic evaluations, the final one, the export
            state["planned_tokens"] = replan(state, phases, max(left, 0.0))
        else:
            state["planned_tokens"] = args.total_tokens
        planned = state["planned_tokens"]
        if state["tokens"] + args.tokens_per_step // 2 > planned or (not args.total_tokens and state["elapsed_s"] >= budget_s):
            finished = True
            break
        if (args.stop_after_min and time.time() - run_start >= args.stop_after_min * 60) or \
                (args.steps_this_run >= 0 and steps_here >= args.steps_this_run):
            finished = False
            break
        progress = state["tokens"] / planned
        # never back to a shorter length when a re-plan moves the progress back a little
        length = max(phase_at(phases, progress), state.get("longest", 0))
        state["longest"] = length
        lr = lr_at(progress, state["step"], args)
        for group in opt.param_groups:
            group["lr"] = lr
        if progress >= 1.0 - args.decay_fraction and not state["pre_decay_saved"]:
            state["pre_decay_saved"] = True
            save_checkpoint(os.path.join(args.run_dir, "pre_decay.pt"), model, opt, state, stream, args)
            log(f"decay starts: saved {os.path.join(args.run_dir, 'pre_decay.pt')}")
        t0 = time.time()
        x, w, kinds = step_batch(length)
        losses, norm = train_step(x, w)
        opt.step()
        sync()
        dt = time.time() - t0
        state["step"] += 1
        state["tokens"] += x.shape[0] * length
        steps_here += 1
        step_times.append(dt)
        window_losses.append(losses.mean().item())
        answer = (w - args.answer_weight).abs() < 1e-6
        if answer.any():
            window_answer.append(losses[answer].mean().item())
        copied = (w - args.copy_weight).abs() < 1e-6
        if copied.any():
            window_copy.append(losses[copied].mean().item())
        ema = state.setdefault("spt_ema", {})
        per_token = dt / (x.shape[0] * length)
        ema[str(length)] = per_token if str(length) not in ema else 0.95 * ema[str(length)] + 0.05 * per_token
        refresh_speeds(length, ema[str(length)])
        if state["step"] % args.log_every == 0:
            log(f"step {state['step']} len {length}x{x.shape[0]} loss {np.mean(window_losses):.4f} "
                f"answer-loss {np.mean(window_answer) if window_answer else float('nan'):.3f} "
                f"copy-loss {np.mean(window_copy) if window_copy else float('nan'):.3f} lr {lr:.2e} "
                f"gnorm {norm:.2f} {np.mean(step_times):.2f}s/step tokens {state['tokens']} "
                f"planned {planned} ({100 * progress:.1f}%) elapsed {state['elapsed_s'] / 60:.1f}min")
            step_times, window_losses, window_answer, window_copy = [], [], [], []
        if time.time() - last_eval >= args.eval_every_min * 60:
            eval_seconds = state["eval_seconds"] = evaluate()
            last_eval = time.time()
        if time.time() - last_ckpt >= args.checkpoint_min * 60:
            state["elapsed_s"] = base_elapsed + (time.time() - run_start)
            save_checkpoint(ckpt_path, model, opt, state, stream, args)
            last_ckpt = time.time()
            log(f"checkpoint {ckpt_path} at step {state['step']}")

    state["elapsed_s"] = base_elapsed + (time.time() - run_start)
    if finished and steps_here > 0:
        evaluate(final=True)
    state["elapsed_s"] = base_elapsed + (time.time() - run_start)
    save_checkpoint(ckpt_path, model, opt, state, stream, args)
    log(f"{'schedule finished' if finished else 'stopped'} at step {state['step']}, tokens {state['tokens']} "
        f"of {state['planned_tokens']}, {state['elapsed_s'] / 60:.1f} min; checkpoint {ckpt_path}")
    if args.export:
        export(args.export, model, tokenizer, state, args)
        log(f"exported {args.export}")
        with open(os.path.join(args.export, "training_log.txt"), "w") as f:
            f.write("\n".join(state["log"]) + "\n")
        check_export(args.export, model.cpu())


if __name__ == "__main__":
    main()
