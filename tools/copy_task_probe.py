#!/usr/bin/env python3
"""Trains a fresh model of train_llama.py's architecture on a synthetic copy task alone and prints
the loss on the copied tokens every 10 steps: a quick test of whether a shape and learning rate can
form the circuit that retrieval needs, before hours of training on the real mixture.

Tasks (sequences of uniformly random token ids, loss on the copies only):
  fixed   the first half repeated as the second half: every copy sits at the same offset, which a
          positional attention head solves (no induction circuit needed);
  varied  a span of 16-119 tokens at a random place, repeated right after itself: the offset
          varies, so the model must find the earlier occurrence of the current token and copy the
          token after it (an induction circuit).

  /usr/bin/python3 tools/copy_task_probe.py --task varied --layers 2 --steps 400
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_llama import Llama, LlamaConfig, autocast  # noqa: E402


# Shortest span; a slot must leave room for spans of at least this many different lengths, or every
# copy sits at (nearly) the same offset and a positional head solves `varied` as it solves `fixed`.
MIN_SPAN, MIN_SPAN_CHOICES = 16, 8


def varied_slot_problem(length, repeats):
    """Why `varied` with these settings would not vary the copy offset, or None."""
    slot = (length + 1) // repeats
    if slot // 2 - MIN_SPAN + 1 < MIN_SPAN_CHOICES:
        return (f"--repeats {repeats} leaves slots of {slot} tokens at --length {length}: spans of "
                f"{MIN_SPAN}-{max(MIN_SPAN, slot // 2)} tokens copy at (nearly) one offset, which a positional head "
                f"solves; use slots of at least {2 * (MIN_SPAN + MIN_SPAN_CHOICES - 1)} tokens")
    return None


def copy_batch(task, rng, batch, length, vocab, repeats=1):
    x = rng.integers(3, vocab, (batch, length + 1))
    w = np.zeros((batch, length), np.float32)  # w[:, p] weighs the prediction of x[:, p + 1]
    for b in range(batch):
        if task == "fixed":
            half = (length + 1) // 2
            x[b, half:2 * half] = x[b, :half]
            w[b, half:2 * half - 1] = 1.0
        else:
            slot = (length + 1) // repeats  # each repeat gets its own slot so that copies never overlap
            for r in range(repeats):
                span = int(rng.integers(min(MIN_SPAN, slot // 2), min(120, slot // 2 + 1)))
                start = r * slot + int(rng.integers(0, slot + 1 - 2 * span))
                x[b, start + span:start + 2 * span] = x[b, start:start + span]
                w[b, start + span:start + 2 * span - 1] = 1.0
    return torch.from_numpy(x), torch.from_numpy(w)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=["fixed", "varied"], default="varied")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=4096, help="random ids are drawn from [3, vocab)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=1, help="varied: copied spans per sequence, one per slot")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"], help="autocast compute type")
    ap.add_argument("--weight-decay", type=float, default=0.1)
    args = ap.parse_args()
    if args.task == "varied" and (problem := varied_slot_problem(args.length, args.repeats)):
        ap.error(problem)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = Llama(LlamaConfig(vocab_size=4096, hidden_size=args.hidden, num_hidden_layers=args.layers,
                              num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
                              head_dim=args.hidden // args.heads))
    matrices = [p for p in model.parameters() if p.dim() >= 2]
    others = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": matrices, "weight_decay": args.weight_decay}, {"params": others, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    start = time.time()
    for step in range(args.steps):
        for group in opt.param_groups:
            group["lr"] = args.lr * min(1.0, (step + 1) / 50)
        x, w = copy_batch(args.task, rng, args.batch, args.length, args.vocab, args.repeats)
        with autocast(torch.device("cpu"), args.dtype):
            logits = model(x[:, :-1])
        losses = F.cross_entropy(logits.float().reshape(-1, 4096), x[:, 1:].reshape(-1), reduction="none").view(w.shape)
        loss = (losses * w).sum() / w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 10 == 0 or step == args.steps - 1:
            print(f"step {step} copy-loss {loss.item():.3f} {time.time() - start:.0f}s", flush=True)


if __name__ == "__main__":
    main()
