"""A makemore-style character-level MLP with BatchNorm, written as plain PyTorch code.

Only the first import differs from a torch script: ``import ember as torch``. Replace it
with ``import torch`` and the file runs under PyTorch unchanged (the tests do exactly
that and compare the losses).

    python examples/makemore_mlp.py --steps 2000           # or EMBER_STEPS=2000
    python examples/makemore_mlp.py --words names.txt --nn  # nn.Sequential + nn.BatchNorm1d

The default model is the lecture's raw tensors (embedding table ``C``, ``W1``, a hand-written
batch norm with running statistics, ``W2``), trained with ``p.data += -lr * p.grad``; with
``--nn`` the same network is built from ``nn.Embedding``, ``nn.Linear``, ``nn.BatchNorm1d``.
Without ``--words`` the "names" are the distinct lowercase words of a few standard-library
modules' source.
"""
from __future__ import annotations

import argparse
import os
import random
import re

import ember as torch

F = torch.nn.functional
nn = torch.nn


def default_words():
    import argparse as a
    import textwrap as t

    text = ""
    for mod in (a, t):
        with open(mod.__file__, encoding="utf-8") as f:
            text += f.read()
    return sorted(set(re.findall(r"\b[a-z]{3,10}\b", text)))


def build_dataset(words, stoi, block_size):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]  # crop and append
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    return X, Y


class RawMLP:
    """The lecture's network as a list of leaf tensors and a forward function."""

    def __init__(self, vocab_size, block_size, n_embd, n_hidden, g):
        self.C = torch.randn((vocab_size, n_embd), generator=g)
        # kaiming init for tanh: gain 5/3 over sqrt(fan_in)
        self.W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * (5 / 3) / (
            (n_embd * block_size) ** 0.5)
        self.b1 = torch.randn(n_hidden, generator=g) * 0.01  # unused with batch norm (kept)
        self.W2 = torch.randn((n_hidden, vocab_size), generator=g) * 0.01
        self.b2 = torch.randn(vocab_size, generator=g) * 0
        self.bngain = torch.ones((1, n_hidden))
        self.bnbias = torch.zeros((1, n_hidden))
        self.bnmean_running = torch.zeros((1, n_hidden))
        self.bnstd_running = torch.ones((1, n_hidden))
        self.parameters = [self.C, self.W1, self.b1, self.W2, self.b2, self.bngain, self.bnbias]
        for p in self.parameters:
            p.requires_grad = True
        self.training = True

    def __call__(self, Xb):
        emb = self.C[Xb]  # embed the characters into vectors
        embcat = emb.view(emb.shape[0], -1)  # concatenate the vectors
        hpreact = embcat @ self.W1 + self.b1  # hidden layer pre-activation
        if self.training:
            bnmeani = hpreact.mean(0, keepdim=True)
            bnstdi = hpreact.std(0, keepdim=True)
            with torch.no_grad():
                self.bnmean_running = 0.999 * self.bnmean_running + 0.001 * bnmeani
                self.bnstd_running = 0.999 * self.bnstd_running + 0.001 * bnstdi
        else:
            bnmeani, bnstdi = self.bnmean_running, self.bnstd_running
        hpreact = self.bngain * (hpreact - bnmeani) / bnstdi + self.bnbias
        h = torch.tanh(hpreact)  # hidden layer
        return h @ self.W2 + self.b2  # output layer

    def eval(self):
        self.training = False

    def train(self):
        self.training = True


def nn_mlp(vocab_size, block_size, n_embd, n_hidden):
    model = nn.Sequential(
        nn.Embedding(vocab_size, n_embd), nn.Flatten(),
        nn.Linear(n_embd * block_size, n_hidden, bias=False), nn.BatchNorm1d(n_hidden),
        nn.Tanh(),
        nn.Linear(n_hidden, vocab_size),
    )
    with torch.no_grad():
        model[-1].weight *= 0.1  # make the last layer less confident
    return model


def main(steps=1000, seed=2147483647, words=None, use_nn=False, init_state=None,
         batch_ix=None, block_size=3, n_embd=10, n_hidden=200, batch_size=32, samples=0,
         log=print):
    """Train for ``steps``; returns the losses, the initial weights and the model.

    ``init_state`` (arrays: a list for the raw model, a state dict with ``use_nn``) and
    ``batch_ix`` (one index array per step) let a caller give two runs the same weights and
    batches.
    """
    words = list(words if words is not None else default_words())
    chars = sorted(list(set("".join(words))))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    vocab_size = len(itos)

    random.seed(42)
    random.shuffle(words)
    n1 = int(0.8 * len(words))
    n2 = int(0.9 * len(words))
    Xtr, Ytr = build_dataset(words[:n1], stoi, block_size)
    Xdev, Ydev = build_dataset(words[n1:n2], stoi, block_size)
    log(f"{len(words)} words, vocabulary {vocab_size}, {Xtr.shape[0]} training examples")

    g = torch.Generator().manual_seed(seed)
    if use_nn:
        torch.manual_seed(seed)
        model = nn_mlp(vocab_size, block_size, n_embd, n_hidden)
        if init_state is not None:
            model.load_state_dict({k: torch.tensor(v) for k, v in init_state.items()})
        first_state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        parameters = list(model.parameters())
    else:
        model = RawMLP(vocab_size, block_size, n_embd, n_hidden, g)
        if init_state is not None:
            with torch.no_grad():
                for p, v in zip(model.parameters, init_state):
                    p.copy_(torch.tensor(v))
        first_state = [p.detach().numpy().copy() for p in model.parameters]
        parameters = model.parameters
    log(f"{sum(p.nelement() for p in parameters)} parameters")

    lossi = []
    for i in range(steps):
        # minibatch construct
        ix = torch.randint(0, Xtr.shape[0], (batch_size,), generator=g) if batch_ix is None \
            else torch.tensor(batch_ix[i])
        Xb, Yb = Xtr[ix], Ytr[ix]
        # forward pass
        logits = model(Xb)
        loss = F.cross_entropy(logits, Yb)
        # backward pass
        for p in parameters:
            p.grad = None
        loss.backward()
        # update
        lr = 0.1 if i < steps * 3 // 4 else 0.01  # step learning rate decay
        for p in parameters:
            p.data += -lr * p.grad
        if i % 100 == 0 or i == steps - 1:
            log(f"{i:7d}/{steps:7d}: {loss.item():.4f}")
        lossi.append(loss.item())

    @torch.no_grad()  # this decorator disables gradient tracking
    def split_loss(x, y):
        model.eval()
        loss = F.cross_entropy(model(x), y)
        model.train()
        return loss.item()

    dev_loss = split_loss(Xdev, Ydev)
    log(f"dev loss {dev_loss:.4f}")

    # sample from the model
    model.eval()
    g = torch.Generator().manual_seed(seed + 10)
    for _ in range(samples):
        out = []
        context = [0] * block_size
        while True:
            logits = model(torch.tensor([context]))
            probs = F.softmax(logits, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            out.append(ix)
            if ix == 0 or len(out) > 30:
                break
        log("".join(itos[i] for i in out))
    return {"losses": lossi, "dev_loss": dev_loss, "init_state": first_state, "model": model}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=int(os.environ.get("EMBER_STEPS", 1000)))
    parser.add_argument("--words", help="a file with one word (name) per line")
    parser.add_argument("--nn", action="store_true", help="build the model from torch.nn")
    parser.add_argument("--samples", type=int, default=10)
    args = parser.parse_args()
    word_list = None
    if args.words:
        with open(args.words, encoding="utf-8") as f:
            word_list = f.read().splitlines()
    main(steps=args.steps, words=word_list, use_nn=args.nn, samples=args.samples)
