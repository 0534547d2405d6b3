"""A small character-level GPT in the style of nanoGPT, written as plain PyTorch code.

Only the first import differs from a torch script: ``import ember as torch``. Replace it
with ``import torch`` and the file runs under PyTorch unchanged (the tests do exactly
that and compare the losses).

    python examples/char_gpt.py --steps 200          # or EMBER_STEPS=200
    python examples/char_gpt.py --data input.txt --steps 2000 --out-dir out

Without ``--data`` it trains on the source of a few Python standard-library modules. The
token ids go to ``train.bin`` / ``val.bin`` (uint16, as nanoGPT's prepare.py writes them)
and batches are read back through ``np.memmap``.
"""
from __future__ import annotations

import argparse
import inspect
import math
import os
import tempfile
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass

import numpy as np

import ember as torch

nn = torch.nn
F = torch.nn.functional


# --------------------------------------------------------------------------------------------
# the model (nanoGPT's model.py, trimmed)
@dataclass
class GPTConfig:
    block_size: int = 64
    vocab_size: int = 65
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False  # True: bias in Linears and LayerNorms, like GPT-2
    flash: bool = True  # False: the explicit masked-softmax attention with a tril buffer


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        # key, query, value projections for all heads, but in a batch
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.flash = config.flash and hasattr(torch.nn.functional, "scaled_dot_product_attention")
        if not self.flash:
            # causal mask to ensure that attention is only applied to the left in the sequence
            T = config.block_size
            self.register_buffer("bias", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def forward(self, x):
        B, T, C = x.size()  # batch size, sequence length, embedding dimensionality (n_embd)
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        if self.flash:
            y = torch.nn.functional.scaled_dot_product_attention(
                q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0,
                is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            att = self.attn_dropout(att)
            y = att @ v  # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble all head outputs
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.vocab_size is not None
        assert config.block_size is not None
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # weight tying: one Parameter shared by the embedding and the output layer
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        # scaled init of the residual projections, per the GPT-2 paper
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def get_num_params(self, non_embedding=True):
        n_params = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n_params -= self.transformer.wpe.weight.numel()
        return n_params

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        device = idx.device
        b, t = idx.size()
        assert t <= self.config.block_size, \
            f"Cannot forward sequence of length {t}, block size is only {self.config.block_size}"
        pos = torch.arange(0, t, dtype=torch.long, device=device)  # shape (t)
        tok_emb = self.transformer.wte(idx)  # token embeddings of shape (b, t, n_embd)
        pos_emb = self.transformer.wpe(pos)  # position embeddings of shape (t, n_embd)
        x = self.transformer.drop(tok_emb + pos_emb)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                   ignore_index=-1)
        else:
            logits = self.lm_head(x[:, [-1], :])  # only the last position at inference
            loss = None
        return logits, loss

    def configure_optimizers(self, weight_decay, learning_rate, betas, device_type):
        param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        # 2-D parameters (matmul weights, embeddings) decay; biases and norms do not
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {"params": decay_params, "weight_decay": weight_decay},
            {"params": nodecay_params, "weight_decay": 0.0},
        ]
        fused_available = "fused" in inspect.signature(torch.optim.AdamW).parameters
        use_fused = fused_available and device_type == "cuda"
        extra_args = dict(fused=True) if use_fused else dict()
        return torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas, **extra_args)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= self.config.block_size \
                else idx[:, -self.config.block_size:]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


# --------------------------------------------------------------------------------------------
# data: characters -> uint16 token files, read back through np.memmap (nanoGPT's prepare.py)
def default_text(max_chars=200_000):
    import textwrap  # any pure-Python stdlib modules will do: their source is the corpus
    import typing

    parts = []
    for mod in (typing, textwrap):
        with open(mod.__file__, encoding="utf-8") as f:
            parts.append(f.read())
    return "\n".join(parts)[:max_chars]


def prepare(text, data_dir):
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    ids = np.array([stoi[c] for c in text], dtype=np.uint16)
    n = int(0.9 * len(ids))
    ids[:n].tofile(os.path.join(data_dir, "train.bin"))
    ids[n:].tofile(os.path.join(data_dir, "val.bin"))
    return chars


def get_batch(data_dir, split, block_size, batch_size, device, ix=None):
    # recreate the memmap every batch to avoid a memory leak, as nanoGPT does
    data = np.memmap(os.path.join(data_dir, f"{split}.bin"), dtype=np.uint16, mode="r")
    if ix is None:
        ix = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([torch.from_numpy((data[i:i + block_size]).astype(np.int64)) for i in ix])
    y = torch.stack([torch.from_numpy((data[i + 1:i + 1 + block_size]).astype(np.int64))
                     for i in ix])
    return x.to(device), y.to(device)


# --------------------------------------------------------------------------------------------
# training (nanoGPT's train.py, single process)
def main(steps=100, seed=1337, text=None, batch_ix=None, init_state=None, out_dir=None,
         block_size=64, batch_size=32, n_layer=4, n_head=4, n_embd=128, dropout=0.0,
         bias=False, flash=True, learning_rate=1e-3, min_lr=1e-4, warmup_iters=10,
         weight_decay=0.1, grad_clip=1.0, eval_interval=0, eval_iters=5, sample_chars=0,
         compile=False, log=print):
    """Train for ``steps`` iterations; returns the losses, the initial weights and the model.

    ``batch_ix`` (one array of start offsets per step) and ``init_state`` (a state dict of
    arrays) let a caller feed two runs the same batches and weights.
    """
    torch.manual_seed(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    device_type = "cuda" if "cuda" in device else "cpu"
    dtype = "bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() \
        else "float32"
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16,
               "float16": torch.float16}[dtype]
    ctx = nullcontext() if device_type == "cpu" else torch.amp.autocast(device_type=device_type,
                                                                         dtype=ptdtype)
    data_dir = tempfile.mkdtemp(prefix="char_gpt_")
    chars = prepare(text if text is not None else default_text(), data_dir)

    model_args = dict(n_layer=n_layer, n_head=n_head, n_embd=n_embd, block_size=block_size,
                      bias=bias, vocab_size=len(chars), dropout=dropout, flash=flash)
    model = GPT(GPTConfig(**model_args))
    if init_state is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in init_state.items()})
    first_state = {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}
    model.to(device)
    log(f"number of parameters: {model.get_num_params() / 1e6:.2f}M")

    scaler = torch.amp.GradScaler(device_type, enabled=(dtype == "float16"))
    optimizer = model.configure_optimizers(weight_decay, learning_rate, (0.9, 0.95), device_type)
    if compile:
        model = torch.compile(model)

    def get_lr(it):  # linear warmup, then cosine decay to min_lr
        if it < warmup_iters:
            return learning_rate * (it + 1) / (warmup_iters + 1)
        decay_ratio = (it - warmup_iters) / max(1, steps - warmup_iters)
        coeff = 0.5 * (1.0 + math.cos(math.pi * min(1.0, decay_ratio)))
        return min_lr + coeff * (learning_rate - min_lr)

    @torch.no_grad()
    def estimate_loss():
        out = {}
        model.eval()
        for split in ["train", "val"]:
            losses = torch.zeros(eval_iters)
            for k in range(eval_iters):
                X, Y = get_batch(data_dir, split, block_size, batch_size, device)
                with ctx:
                    _, loss = model(X, Y)
                losses[k] = loss.item()
            out[split] = losses.mean()
        model.train()
        return out

    losses = []
    t0 = time.time()
    for it in range(steps):
        lr = get_lr(it)
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr
        if eval_interval and it % eval_interval == 0:
            est = estimate_loss()
            log(f"step {it}: train loss {est['train']:.4f}, val loss {est['val']:.4f}")
        X, Y = get_batch(data_dir, "train", block_size, batch_size, device,
                         ix=None if batch_ix is None else batch_ix[it])
        with ctx:
            logits, loss = model(X, Y)
        scaler.scale(loss).backward()
        if grad_clip != 0.0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if it % 10 == 0 or it == steps - 1:
            dt = time.time() - t0
            log(f"iter {it}: loss {loss.item():.4f}, lr {lr:.2e}, time {dt * 1000:.0f}ms")

    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                      "model_args": model_args, "iter_num": steps,
                      "best_val_loss": min(losses) if losses else float("inf"),
                      "config": asdict(GPTConfig(**model_args)), "chars": "".join(chars)}
        torch.save(checkpoint, os.path.join(out_dir, "ckpt.pt"))
    if sample_chars:
        model.eval()
        start = torch.zeros((1, 1), dtype=torch.long, device=device)
        ids = model.generate(start, sample_chars, temperature=0.8, top_k=20)[0].tolist()
        log("".join(chars[i] for i in ids))
    return {"losses": losses, "init_state": first_state, "model": model, "chars": chars}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=int(os.environ.get("EMBER_STEPS", 100)))
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--data", help="a text file (default: Python stdlib source)")
    parser.add_argument("--out-dir", help="write ckpt.pt here")
    parser.add_argument("--sample", type=int, default=200, help="characters to sample after")
    args = parser.parse_args()
    corpus = None
    if args.data:
        with open(args.data, encoding="utf-8") as f:
            corpus = f.read()
    main(steps=args.steps, seed=args.seed, text=corpus, out_dir=args.out_dir,
         sample_chars=args.sample, eval_interval=50)
