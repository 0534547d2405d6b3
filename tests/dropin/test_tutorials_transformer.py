"""PyTorch's "Language Modeling with nn.Transformer and torchtext"
(beginner_source/transformer_tutorial.py), run verbatim on ember and on torch.

``PositionalEncoding`` (a registered buffer filled through strided slices),
``TransformerEncoder`` of ``TransformerEncoderLayer`` with dropout, ``Embedding`` weights set by
``.data.uniform_``, ``clip_grad_norm_``, ``SGD`` with ``StepLR(optimizer, 1.0, gamma=0.95)``,
``torch.save``/``torch.load`` of the best state dict. ``torchtext`` (WikiText2, the
``basic_english`` tokenizer, ``build_vocab_from_iterator``) is a small pure-Python stand-in,
the model and data are shrunk (``emsize``, ``d_hid``, ``bptt``, batch sizes, epochs, log
interval) and the clock is a stand-in so the printed timings agree (see
``test_tutorials_harness``).
"""
# ruff: noqa: E501  (the tutorials' own lines are kept as written)
from __future__ import annotations

import types

import pytest

from tests.dropin.test_tutorials_harness import run_both

torch = pytest.importorskip("torch")

_WORDS = ("the cat sat on the mat . a dog ran in the park and the cat saw it . "
          "birds sing in the morning while the sun rises over the hills . ").split()


def _lines(seed, n):
    import random

    rs = random.Random(seed)
    return [" ".join(rs.choice(_WORDS) for _ in range(rs.randint(0, 12))) for _ in range(n)]


def _fake_torchtext(T):
    """``torchtext`` as the tutorial uses it: WikiText2 lines, a tokenizer and a vocab."""
    splits = {"train": _lines(1, 40), "valid": _lines(2, 12), "test": _lines(3, 12)}

    def WikiText2(split=("train", "valid", "test")):
        if isinstance(split, str):
            return iter(splits[split])
        return tuple(iter(splits[s]) for s in split)

    def get_tokenizer(name):
        return lambda line: line.lower().split()

    class Vocab:
        def __init__(self, tokens):
            self.itos = tokens
            self.stoi = {t: i for i, t in enumerate(tokens)}
            self.default = None

        def set_default_index(self, index):
            self.default = index

        def __getitem__(self, token):
            return self.stoi.get(token, self.default)

        def __call__(self, tokens):
            return [self[t] for t in tokens]

        def __len__(self):
            return len(self.itos)

    def build_vocab_from_iterator(iterator, specials=()):
        counts = {}
        for tokens in iterator:
            for t in tokens:
                counts[t] = counts.get(t, 0) + 1
        ordered = sorted(counts, key=lambda t: (-counts[t], t))
        return Vocab(list(specials) + [t for t in ordered if t not in specials])

    mods = {name: types.ModuleType(name) for name in
            ("torchtext", "torchtext.datasets", "torchtext.data", "torchtext.data.utils",
             "torchtext.vocab")}
    mods["torchtext.datasets"].WikiText2 = WikiText2
    mods["torchtext.data.utils"].get_tokenizer = get_tokenizer
    mods["torchtext.vocab"].build_vocab_from_iterator = build_vocab_from_iterator
    return mods


def _modules():
    cache = {}

    def part(name):
        def make(T):
            if T not in cache:
                cache[T] = _fake_torchtext(T)
            return cache[T][name]
        return make

    def fake_time(T):
        mod = types.ModuleType("time")
        mod.time = lambda: 1000.0
        return mod

    names = ("torchtext", "torchtext.datasets", "torchtext.data", "torchtext.data.utils",
             "torchtext.vocab")
    return {"time": fake_time, **{n: part(n) for n in names}}


TRANSFORMER = '''
import math
import os
from tempfile import TemporaryDirectory
from typing import Tuple

import torch
from torch import nn, Tensor
from torch.nn import TransformerEncoder, TransformerEncoderLayer
from torch.utils.data import dataset

class TransformerModel(nn.Module):

    def __init__(self, ntoken: int, d_model: int, nhead: int, d_hid: int,
                 nlayers: int, dropout: float = 0.5):
        super().__init__()
        self.model_type = 'Transformer'
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        encoder_layers = TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
        self.transformer_encoder = TransformerEncoder(encoder_layers, nlayers)
        self.embedding = nn.Embedding(ntoken, d_model)
        self.d_model = d_model
        self.linear = nn.Linear(d_model, ntoken)

        self.init_weights()

    def init_weights(self) -> None:
        initrange = 0.1
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.linear.bias.data.zero_()
        self.linear.weight.data.uniform_(-initrange, initrange)

    def forward(self, src: Tensor, src_mask: Tensor = None) -> Tensor:
        """
        Arguments:
            src: Tensor, shape ``[seq_len, batch_size]``
            src_mask: Tensor, shape ``[seq_len, seq_len]``

        Returns:
            output Tensor of shape ``[seq_len, batch_size, ntoken]``
        """
        src = self.embedding(src) * math.sqrt(self.d_model)
        src = self.pos_encoder(src)
        output = self.transformer_encoder(src, src_mask)
        output = self.linear(output)
        return output

class PositionalEncoding(nn.Module):

    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)

        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer('pe', pe)

    def forward(self, x: Tensor) -> Tensor:
        """
        Arguments:
            x: Tensor, shape ``[seq_len, batch_size, embedding_dim]``
        """
        x = x + self.pe[:x.size(0)]
        return self.dropout(x)

from torchtext.datasets import WikiText2
from torchtext.data.utils import get_tokenizer
from torchtext.vocab import build_vocab_from_iterator

train_iter = WikiText2(split='train')
tokenizer = get_tokenizer('basic_english')
vocab = build_vocab_from_iterator(map(tokenizer, train_iter), specials=['<unk>'])
vocab.set_default_index(vocab['<unk>'])

def data_process(raw_text_iter: dataset.IterableDataset) -> Tensor:
    """Converts raw text into a flat Tensor."""
    data = [torch.tensor(vocab(tokenizer(item)), dtype=torch.long) for item in raw_text_iter]
    return torch.cat(tuple(filter(lambda t: t.numel() > 0, data)))

# ``train_iter`` was "consumed" by the process of building the vocab,
# so we have to create it again
train_iter, val_iter, test_iter = WikiText2()
train_data = data_process(train_iter)
val_data = data_process(val_iter)
test_data = data_process(test_iter)

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

def batchify(data: Tensor, bsz: int) -> Tensor:
    """Divides the data into ``bsz`` separate sequences, removing extra elements
    that wouldn't cleanly fit.

    Arguments:
        data: Tensor, shape ``[N]``
        bsz: int, batch size

    Returns:
        Tensor of shape ``[N // bsz, bsz]``
    """
    seq_len = data.size(0) // bsz
    data = data[:seq_len * bsz]
    data = data.view(bsz, seq_len).t().contiguous()
    return data.to(device)

batch_size = 4
eval_batch_size = 2
train_data = batchify(train_data, batch_size)  # shape ``[seq_len, batch_size]``
val_data = batchify(val_data, eval_batch_size)
test_data = batchify(test_data, eval_batch_size)

bptt = 16
def get_batch(source: Tensor, i: int) -> Tuple[Tensor, Tensor]:
    """
    Args:
        source: Tensor, shape ``[full_seq_len, batch_size]``
        i: int

    Returns:
        tuple (data, target), where data has shape ``[seq_len, batch_size]`` and
        target has shape ``[seq_len * batch_size]``
    """
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i+seq_len]
    target = source[i+1:i+1+seq_len].reshape(-1)
    return data, target

ntokens = len(vocab)  # size of vocabulary
emsize = 32  # embedding dimension
d_hid = 32  # dimension of the feedforward network model in ``nn.TransformerEncoder``
nlayers = 2  # number of ``nn.TransformerEncoderLayer`` in ``nn.TransformerEncoder``
nhead = 2  # number of heads in ``nn.MultiheadAttention``
dropout = 0.2  # dropout probability
model = TransformerModel(ntokens, emsize, nhead, d_hid, nlayers, dropout).to(device)

import time

criterion = nn.CrossEntropyLoss()
lr = 5.0  # learning rate
optimizer = torch.optim.SGD(model.parameters(), lr=lr)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)

def train(model: nn.Module) -> None:
    model.train()  # turn on train mode
    total_loss = 0.
    log_interval = 2
    start_time = time.time()

    num_batches = len(train_data) // bptt
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = get_batch(train_data, i)
        output = model(data)
        output_flat = output.view(-1, ntokens)
        loss = criterion(output_flat, targets)

        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()

        total_loss += loss.item()
        if batch % log_interval == 0 and batch > 0:
            lr = scheduler.get_last_lr()[0]
            ms_per_batch = (time.time() - start_time) * 1000 / log_interval
            cur_loss = total_loss / log_interval
            ppl = math.exp(cur_loss)
            print(f'| epoch {epoch:3d} | {batch:5d}/{num_batches:5d} batches | '
                  f'lr {lr:02.2f} | ms/batch {ms_per_batch:5.2f} | '
                  f'loss {cur_loss:5.2f} | ppl {ppl:8.2f}')
            total_loss = 0
            start_time = time.time()

def evaluate(model: nn.Module, eval_data: Tensor) -> float:
    model.eval()  # turn on evaluation mode
    total_loss = 0.
    with torch.no_grad():
        for i in range(0, eval_data.size(0) - 1, bptt):
            data, targets = get_batch(eval_data, i)
            seq_len = data.size(0)
            output = model(data)
            output_flat = output.view(-1, ntokens)
            total_loss += seq_len * criterion(output_flat, targets).item()
    return total_loss / (len(eval_data) - 1)

best_val_loss = float('inf')
epochs = 2

with TemporaryDirectory() as tempdir:
    best_model_params_path = os.path.join(tempdir, "best_model_params.pt")

    for epoch in range(1, epochs + 1):
        epoch_start_time = time.time()
        train(model)
        val_loss = evaluate(model, val_data)
        val_ppl = math.exp(val_loss)
        elapsed = time.time() - epoch_start_time
        print('-' * 89)
        print(f'| end of epoch {epoch:3d} | time: {elapsed:5.2f}s | '
            f'valid loss {val_loss:5.2f} | valid ppl {val_ppl:8.2f}')
        print('-' * 89)

        if val_loss < best_val_loss:
            best_val_loss = val_loss
            torch.save(model.state_dict(), best_model_params_path)

        scheduler.step()
    model.load_state_dict(torch.load(best_model_params_path)) # load best model states

test_loss = evaluate(model, test_data)
test_ppl = math.exp(test_loss)
print('=' * 89)
print(f'| End of training | test loss {test_loss:5.2f} | '
      f'test ppl {test_ppl:8.2f}')
print('=' * 89)
'''


def test_transformer_language_model():
    e, t, e_out, _ = run_both(TRANSFORMER, names=["train_data", "test_loss"],
                              modules=_modules(), name="transformer")
    assert e_out.count("| end of epoch") == 2 and e_out.count("batches |") >= 2
    assert e["scheduler"].get_last_lr() == pytest.approx(t["scheduler"].get_last_lr())
    for (ke, pe), (kt, pt) in zip(e["model"].state_dict().items(),
                                  t["model"].state_dict().items()):
        assert ke == kt
        # pe: sin/cos of position * div_term up to position 5000; exp's float32 rounding
        # (1 ulp apart in some of div_term) grows with the position
        assert pe.numpy() == pytest.approx(pt.numpy(), rel=1e-3,
                                           abs=3e-4 if ke == "pos_encoder.pe" else 2e-5), ke
