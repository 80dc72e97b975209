#!/usr/bin/python3
"""Train the project's small GPT-2 model on the KJV Bible and save it in Hugging Face format.

Output folder (default models/kjv-gpt2/): model.safetensors (fp16, HF GPT-2 tensor names,
Conv1D weights stored in x out, tied lm_head omitted), config.json, and the tokenizer files
copied from --tokenizer. The learning-rate schedule follows the fraction of the budget used
(the larger of steps done / --max-steps and time used / --time-budget-min), so a run always
ends with a fully decayed learning rate within its wall-clock budget.
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe import BpeTokenizer  # noqa: E402
from kjv_corpus import load_split  # noqa: E402
from safetensors_io import save_safetensors  # noqa: E402


class Block(nn.Module):
    def __init__(self, d_model, n_head):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(d_model, eps=1e-5)
        self.c_attn = nn.Linear(d_model, 3 * d_model)
        self.attn_proj = nn.Linear(d_model, d_model)
        self.ln_2 = nn.LayerNorm(d_model, eps=1e-5)
        self.c_fc = nn.Linear(d_model, 4 * d_model)
        self.mlp_proj = nn.Linear(4 * d_model, d_model)

    def forward(self, x, causal_mask):
        b, t, d = x.shape
        hd = d // self.n_head
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q = q.view(b, t, self.n_head, hd).transpose(1, 2)
        k = k.view(b, t, self.n_head, hd).transpose(1, 2)
        v = v.view(b, t, self.n_head, hd).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        scores = scores.masked_fill(causal_mask[:t, :t], float("-inf"))
        att = torch.softmax(scores, dim=-1) @ v
        x = x + self.attn_proj(att.transpose(1, 2).reshape(b, t, d))
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x


class Gpt2(nn.Module):
    def __init__(self, vocab, n_positions, d_model, n_layer, n_head):
        super().__init__()
        self.wte = nn.Embedding(vocab, d_model)
        self.wpe = nn.Embedding(n_positions, d_model)
        self.h = nn.ModuleList([Block(d_model, n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d_model, eps=1e-5)
        mask = torch.triu(torch.ones(n_positions, n_positions, dtype=torch.bool), diagonal=1)
        self.register_buffer("causal_mask", mask, persistent=False)
        self.apply(self._init)
        # GPT-2 scales the residual projections by 1/sqrt(2 * layers) at initialisation.
        for block in self.h:
            for proj in (block.attn_proj, block.mlp_proj):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx):
        t = idx.shape[1]
        pos = torch.arange(t, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x, self.causal_mask)
        return self.ln_f(x) @ self.wte.weight.T

    def hf_state(self):
        """Tensors under Hugging Face GPT-2 names; Conv1D weights are in x out (nn.Linear transposed)."""
        out = {"wte.weight": self.wte.weight, "wpe.weight": self.wpe.weight,
               "ln_f.weight": self.ln_f.weight, "ln_f.bias": self.ln_f.bias}
        for i, b in enumerate(self.h):
            p = f"h.{i}."
            out[p + "ln_1.weight"], out[p + "ln_1.bias"] = b.ln_1.weight, b.ln_1.bias
            out[p + "ln_2.weight"], out[p + "ln_2.bias"] = b.ln_2.weight, b.ln_2.bias
            for hf, lin in (("attn.c_attn", b.c_attn), ("attn.c_proj", b.attn_proj),
                            ("mlp.c_fc", b.c_fc), ("mlp.c_proj", b.mlp_proj)):
                out[p + hf + ".weight"] = lin.weight.T
                out[p + hf + ".bias"] = lin.bias
        return {k: v.detach().contiguous() for k, v in out.items()}


def batches(tokens, seq_len, batch, generator):
    starts = torch.randint(0, len(tokens) - seq_len - 1, (batch,), generator=generator)
    x = torch.stack([tokens[s:s + seq_len] for s in starts])
    y = torch.stack([tokens[s + 1:s + seq_len + 1] for s in starts])
    return x, y


@torch.no_grad()
def evaluate(model, tokens, seq_len, max_windows):
    """Mean next-token loss over consecutive non-overlapping windows."""
    model.eval()
    losses = []
    for w in range(min(max_windows, (len(tokens) - 1) // seq_len)):
        x = tokens[w * seq_len:(w + 1) * seq_len].unsqueeze(0)
        y = tokens[w * seq_len + 1:(w + 1) * seq_len + 1].unsqueeze(0)
        losses.append(F.cross_entropy(model(x).view(-1, model.wte.num_embeddings), y.view(-1)).item())
    model.train()
    return float(np.mean(losses))


def learning_rate(progress, step, base, warmup):
    if step < warmup:
        return base * (step + 1) / warmup
    return 0.1 * base + 0.9 * base * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def write_config(path, args, vocab_size, eos_id):
    config = {
        "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
        "vocab_size": vocab_size, "n_positions": args.seq_len, "n_ctx": args.seq_len,
        "n_embd": args.d_model, "n_layer": args.layers, "n_head": args.heads,
        "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",
        "tie_word_embeddings": True, "bos_token_id": eos_id, "eos_token_id": eos_id,
        "torch_dtype": "float16",
    }
    with open(path, "w") as f:
        json.dump(config, f, indent=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tokenizer", required=True, help="folder with vocab.json and merges.txt")
    ap.add_argument("--out", default="models/kjv-gpt2")
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--seq-len", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--max-steps", type=int, default=100000)
    ap.add_argument("--time-budget-min", type=float, default=40.0)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    tokenizer = BpeTokenizer.load(args.tokenizer)
    train_text, heldout_text = load_split()
    train = torch.tensor(tokenizer.encode(train_text), dtype=torch.long)
    heldout = torch.tensor(tokenizer.encode(heldout_text), dtype=torch.long)
    print(f"train tokens {len(train)}, held-out tokens {len(heldout)}", flush=True)

    model = Gpt2(len(tokenizer.encoder), args.seq_len, args.d_model, args.layers, args.heads)
    print(f"parameters {sum(p.numel() for p in model.parameters())}", flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    generator = torch.Generator().manual_seed(args.seed)
    start = time.time()
    budget = args.time_budget_min * 60
    step = 0
    while True:
        progress = max(step / args.max_steps, (time.time() - start) / budget)
        if progress >= 1.0:
            break
        for group in opt.param_groups:
            group["lr"] = learning_rate(progress, step, args.lr, args.warmup)
        x, y = batches(train, args.seq_len, args.batch, generator)
        loss = F.cross_entropy(model(x).view(-1, model.wte.num_embeddings), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f} lr {opt.param_groups[0]['lr']:.2e} "
                  f"elapsed {time.time() - start:.0f}s", flush=True)
        if step % args.eval_every == 0:
            print(f"step {step} held-out loss {evaluate(model, heldout, args.seq_len, 8):.4f}", flush=True)

    elapsed = time.time() - start
    train_loss = evaluate(model, train, args.seq_len, 32)
    heldout_loss = evaluate(model, heldout, args.seq_len, 1000)
    print(f"done: steps {step}, time {elapsed / 60:.1f} min, train loss {train_loss:.4f}, "
          f"held-out loss {heldout_loss:.4f} (ppl {math.exp(heldout_loss):.2f})", flush=True)

    os.makedirs(args.out, exist_ok=True)
    tensors = {k: v.to(torch.float16).numpy() for k, v in model.hf_state().items()}
    save_safetensors(os.path.join(args.out, "model.safetensors"), tensors, {"format": "pt"})
    write_config(os.path.join(args.out, "config.json"), args, len(tokenizer.encoder),
                 tokenizer.encoder["<|endoftext|>"])
    for name in ("vocab.json", "merges.txt"):
        if os.path.abspath(os.path.join(args.tokenizer, name)) != os.path.abspath(os.path.join(args.out, name)):
            shutil.copy(os.path.join(args.tokenizer, name), os.path.join(args.out, name))
    with open(os.path.join(args.out, "training_result.json"), "w") as f:
        json.dump({"steps": step, "minutes": elapsed / 60, "train_loss": train_loss,
                   "heldout_loss": heldout_loss, "args": vars(args)}, f, indent=2)


if __name__ == "__main__":
    main()
