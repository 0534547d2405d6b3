"""Sequence workloads, part two: packed variable-length sequences through the recurrent layers
and the EmbeddingBag text classifier, each written once as plain PyTorch (``run(T, ...)``) and
run on ember and on torch from the same weights and data; then the packing utilities and
``F.embedding_bag`` one piece at a time (values, gradients, errors, finite differences).
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.dropin.test_workloads_sequence import (
    PAD,
    B,
    H,
    L,
    V,
    _both,
    _compare,
    _load,
    _np,
    _sentences,
    _state,
)

torch = pytest.importorskip("torch")


# --- 1. packed variable-length sequences through recurrent layers ----------------------------
def packed_run(T, init, seqs, labels, kind, steps=3):
    nn, F = T.nn, T.nn.functional
    rnn_utils = nn.utils.rnn
    n_layers = 2

    class PackedClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, H, padding_idx=PAD)
            self.rnn = getattr(nn, kind)(H, H, num_layers=n_layers, batch_first=True,
                                         bidirectional=True)
            self.fc = nn.Linear(2 * H, 3)

        def forward(self, x, lengths, hx=None):
            packed = rnn_utils.pack_padded_sequence(self.emb(x), lengths.cpu(), batch_first=True,
                                                    enforce_sorted=False)
            packed_out, hidden = self.rnn(packed, hx)
            out, out_lengths = rnn_utils.pad_packed_sequence(packed_out, batch_first=True,
                                                             padding_value=-1.0,
                                                             total_length=x.size(1))
            h_n = hidden[0] if isinstance(hidden, tuple) else hidden
            final = T.cat([h_n[-2], h_n[-1]], dim=1)        # last layer, both directions
            return self.fc(final), out, out_lengths, hidden, packed_out

    def collate_fn(batch):
        texts, ys = zip(*batch)
        lengths = T.tensor([len(s) for s in texts])
        x = rnn_utils.pad_sequence([T.tensor(s) for s in texts], batch_first=True,
                                   padding_value=PAD)
        return x, lengths, T.tensor(ys)

    model = PackedClassifier()
    if init is not None:
        _load(T, model, init)
    out = {"init": _state(model), "losses": [], "norms": []}
    loader = T.utils.data.DataLoader(list(zip(seqs, labels)), batch_size=B,
                                     collate_fn=collate_fn)
    # eps well above float32 noise: a weight whose gradient is ~1e-9 at the first step would
    # otherwise take a step of ~lr from rounding alone
    opt = T.optim.AdamW(model.parameters(), lr=1e-2, betas=(0.9, 0.99), eps=1e-6)
    rs = np.random.RandomState(7)
    for _ in range(steps):
        for x, lengths, y in loader:
            shape = (2 * n_layers, x.size(0), H)
            h0 = T.tensor(rs.randn(*shape).astype(np.float32) * 0.1)
            hx = (h0, T.tensor(rs.randn(*shape).astype(np.float32) * 0.1)) if kind == "LSTM" \
                else h0
            logits, padded, out_lengths, hidden, packed_out = model(x, lengths, hx)
            loss = F.cross_entropy(logits, y) + 0.1 * padded.pow(2).mean()
            opt.zero_grad()
            loss.backward()
            out["norms"].append(nn.utils.clip_grad_norm_(model.parameters(), 1.0))
            opt.step()
            out["losses"].append(loss.item())
    out["last"] = [padded, out_lengths, hidden, *packed_out]
    out["final"] = _state(model)
    return out


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_packed_sequence_classifier(kind):
    seqs = _sentences(8, seed=8, low=1)
    labels = [int(s[0] % 3) for s in seqs]
    e, _ = _both(packed_run, seqs, labels, kind)
    padded, lengths = _np(e["last"][0]), _np(e["last"][1])
    assert (padded[np.arange(L)[None, :] >= lengths[:, None]] == -1.0).all()


def test_pack_utilities_match_torch():
    seqs = [np.random.RandomState(i).randn(n, 3).astype(np.float32) for i, n in
            enumerate([2, 5, 1, 5, 3])]
    results = []
    for T in (ember, torch):
        R = T.nn.utils.rnn
        tensors = [T.tensor(s, requires_grad=True) for s in seqs]
        padded = R.pad_sequence(tensors)                                    # (L, B, 3)
        packed = R.pack_padded_sequence(padded, T.tensor([2, 5, 1, 5, 3]),
                                        enforce_sorted=False)
        assert isinstance(packed, R.PackedSequence) and isinstance(packed, tuple)
        by_list = R.pack_sequence(tensors, enforce_sorted=False)
        unpacked = R.unpack_sequence(by_list)
        repadded, lengths = R.pad_packed_sequence(packed, batch_first=True, padding_value=9.0)
        (repadded * T.arange(repadded.numel()).reshape(repadded.shape)).sum().backward()
        sorted_pack = R.pack_sequence([tensors[1], tensors[3], tensors[4], tensors[0]])
        results.append([list(packed), list(by_list), unpacked, repadded, lengths,
                        [t.grad for t in tensors], list(sorted_pack)[:2],
                        R.unpad_sequence(padded, lengths), packed.double().data.dtype == T.float64])
    _compare(results[0], results[1])
    assert results[0][-1] and sorted_pack.sorted_indices is None


def test_pack_errors_match_torch():
    for T in (ember, torch):
        R = T.nn.utils.rnn
        x = T.zeros(3, 4, 2)
        with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
            R.pack_padded_sequence(x, [2, 4, 1], batch_first=True)
        with pytest.raises(RuntimeError, match="has to be greater than 0"):
            R.pack_padded_sequence(x, [2, 0, 1], batch_first=True, enforce_sorted=False)
        with pytest.raises(RuntimeError, match="to be equal to batch_size"):
            R.pack_padded_sequence(x, [4, 2], batch_first=True)
        packed = R.pack_padded_sequence(x, [4, 2, 1], batch_first=True)
        with pytest.raises(ValueError, match="Expected total_length to be at least"):
            R.pad_packed_sequence(packed, total_length=3)
    # torch 2.13 skips its size checks for packed input (a wrong state can crash it); ember
    # checks as for padded input
    packed = ember.nn.utils.rnn.pack_padded_sequence(ember.zeros(3, 4, 2), [4, 2, 1],
                                                     batch_first=True)
    lstm = ember.nn.LSTM(2, 3)
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 3, 3\), got "
                                           r"\[1, 3, 4\]"):
        lstm(packed, (ember.zeros(1, 3, 4), ember.zeros(1, 3, 3)))


@pytest.mark.parametrize("kind, kwargs", [("LSTM", {"proj_size": 2}), ("GRU", {}),
                                          ("RNN", {"nonlinearity": "relu"})])
def test_packed_variants_match_torch(kind, kwargs):
    """batch_first=False, a projected LSTM, relu RNN, no initial state, sorted input."""
    x = np.random.RandomState(3).randn(5, 3, 4).astype(np.float32)
    torch.manual_seed(0)
    outs, init = [], None
    for T in (torch, ember):
        rnn = getattr(T.nn, kind)(4, 3, bidirectional=True, **kwargs)
        if init is None:
            init = _state(rnn)
        _load(T, rnn, init)
        xt = T.tensor(x, requires_grad=True)
        packed = T.nn.utils.rnn.pack_padded_sequence(xt, T.tensor([5, 3, 2]))
        out, hidden = rnn(packed)
        padded, _ = T.nn.utils.rnn.pad_packed_sequence(out)
        hs = list(hidden) if isinstance(hidden, tuple) else [hidden]
        (padded.tanh().sum() + sum((h * h).sum() for h in hs)).backward()
        outs.append([padded, hs, xt.grad, [p.grad for p in rnn.parameters()]])
    _compare(outs[1], outs[0])


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_packed_recurrent_gradcheck(kind):
    rnn = getattr(ember.nn, kind)(2, 2, bidirectional=True, batch_first=True,
                                  dtype=ember.float64)
    x = ember.randn(3, 4, 2, dtype=ember.float64, requires_grad=True)
    h0 = ember.randn(2, 3, 2, dtype=ember.float64, requires_grad=True)
    c0 = ember.randn(2, 3, 2, dtype=ember.float64, requires_grad=True)
    lengths = [2, 4, 1]
    w = ember.randn(8, 4, dtype=ember.float64)

    def f(x, h0, c0, w_hh):
        packed = ember.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                         enforce_sorted=False)
        out, hidden = rnn(packed, (h0, c0) if kind == "LSTM" else h0 * c0)
        h_n = hidden[0] * hidden[1] if kind == "LSTM" else hidden
        return (out.data * w[:out.data.shape[0]]).sum() + (h_n * h_n).sum()

    assert ember.autograd.gradcheck(f, (x, h0, c0, rnn.weight_hh_l0_reverse))


# --- 2. EmbeddingBag: the torchtext-tutorial classifier and F.embedding_bag ------------------
def bag_run(T, init, data, steps=2):
    nn = T.nn

    class TextClassificationModel(nn.Module):
        def __init__(self, vocab_size, embed_dim, num_class):
            super().__init__()
            self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
            self.fc = nn.Linear(embed_dim, num_class)
            self.init_weights()

        def init_weights(self):
            initrange = 0.5
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.fc.weight.data.uniform_(-initrange, initrange)
            self.fc.bias.data.zero_()

        def forward(self, text, offsets):
            return self.fc(self.embedding(text, offsets))

    def collate_batch(batch):
        label_list, text_list, offsets = [], [], [0]
        for _label, _text in batch:
            label_list.append(_label)
            processed_text = T.tensor(_text, dtype=T.int64)
            text_list.append(processed_text)
            offsets.append(processed_text.size(0))
        label_list = T.tensor(label_list, dtype=T.int64)
        offsets = T.tensor(offsets[:-1]).cumsum(dim=0)
        text_list = T.cat(text_list)
        return label_list, text_list, offsets

    model = TextClassificationModel(V, H, 4)
    if init is not None:
        _load(T, model, init)
    out = {"init": _state(model), "losses": [], "accs": []}
    criterion = nn.CrossEntropyLoss()
    optimizer = T.optim.SGD(model.parameters(), lr=5.0)
    scheduler = T.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
    loader = T.utils.data.DataLoader(data, batch_size=B, shuffle=False,
                                     collate_fn=collate_batch)
    for _epoch in range(steps):
        model.train()
        for label, text, offsets in loader:
            optimizer.zero_grad()
            predicted_label = model(text, offsets)
            loss = criterion(predicted_label, label)
            loss.backward()
            T.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            optimizer.step()
            out["losses"].append(loss.item())
            out["accs"].append((predicted_label.argmax(1) == label).sum().item())
        scheduler.step()
    model.eval()
    with T.no_grad():
        out["eval"] = model(text, offsets)
    out["final"] = _state(model)
    return out


def test_embedding_bag_text_classifier():
    seqs = _sentences(8, seed=9, low=1)
    data = [(int(s.max() % 4), s) for s in seqs]
    _both(bag_run, data)


BAG_IDS = np.array([1, 2, 4, 5, 4, 3, 2, 9, 4, 7], np.int64)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("offsets, last, padding_idx, weighted", [
    ([0, 4, 4, 8], False, None, False),            # an empty bag in the middle
    ([0, 3, 3, 10], True, 4, False),               # include_last_offset, a padding id
    ([0, 2, 10, 10], False, -1, True),             # negative padding_idx, an empty last bag
    (None, False, None, True),                     # 2-D input: fixed-size bags
])
def test_embedding_bag_matches_torch(mode, offsets, last, padding_idx, weighted):
    weighted = weighted and mode == "sum"            # per_sample_weights: sum mode only
    rs = np.random.RandomState(0)
    weight = rs.randn(10, 3).astype(np.float32)
    psw = rs.randn(BAG_IDS.size).astype(np.float32)
    ids = BAG_IDS if offsets is not None else BAG_IDS.reshape(2, 5)
    outs = []
    for T in (ember, torch):
        w = T.tensor(weight, requires_grad=True)
        p = T.tensor(psw.reshape(ids.shape), requires_grad=True) if weighted else None
        o = T.nn.functional.embedding_bag(
            T.tensor(ids), w, None if offsets is None else T.tensor(offsets), mode=mode,
            per_sample_weights=p, include_last_offset=last, padding_idx=padding_idx)
        g = T.tensor(rs.randn(*o.shape).astype(np.float32))
        (o * g).sum().backward()
        outs.append([o, w.grad, p.grad if weighted else None])
        rs = np.random.RandomState(0)
        rs.randn(10, 3), rs.randn(BAG_IDS.size)           # the same g for both
    _compare(outs[0], outs[1], rtol=1e-5, atol=1e-6)


def test_embedding_bag_module_matches_torch():
    torch.manual_seed(0)
    t_bag = torch.nn.EmbeddingBag(10, 4, mode="max", padding_idx=2, max_norm=1.5)
    e_bag = ember.nn.EmbeddingBag(10, 4, mode="max", padding_idx=2, max_norm=1.5)
    assert (e_bag.weight.detach().numpy()[2] == 0).all()
    assert repr(e_bag) == repr(t_bag)
    _load(ember, e_bag, _state(t_bag))
    ids = BAG_IDS.reshape(5, 2)
    _compare(e_bag(ember.tensor(ids)), t_bag(torch.tensor(ids)))
    _compare(e_bag.weight, t_bag.weight)                  # renormalised in place alike
    pre = torch.randn(6, 3)
    t_pre = torch.nn.EmbeddingBag.from_pretrained(pre, mode="sum")
    e_pre = ember.nn.EmbeddingBag.from_pretrained(ember.tensor(pre.numpy()), mode="sum")
    assert not e_pre.weight.requires_grad and repr(e_pre) == repr(t_pre)
    _compare(e_pre(ember.tensor([[1, 5]])), t_pre(torch.tensor([[1, 5]])))


def test_embedding_bag_scales_gradients_by_frequency():
    """torch 2.13's CPU kernel divides by the wrong count when an id sorts after a repeated
    one (pytorch#190063); ember divides each row by its own id's count, as the docs say (and
    as torch does where its bug does not bite: only the largest id repeated)."""
    grads = []
    for T in (ember, torch):
        w = T.ones(10, 3, requires_grad=True)
        T.nn.functional.embedding_bag(T.tensor([1, 2, 7, 9, 9]), w, T.tensor([0, 3]),
                                      mode="mean", scale_grad_by_freq=True).sum().backward()
        grads.append(w.grad)
    _compare(grads[0], grads[1])
    w = ember.ones(10, 3, requires_grad=True)
    ember.nn.functional.embedding_bag(ember.tensor([1, 2, 7, 7, 9, 9, 9]), w,
                                      ember.tensor([0, 3]), mode="mean",
                                      scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(w.grad.numpy()[[1, 2, 7, 9], 0],
                               [1 / 3, 1 / 3, (1 / 3 + 1 / 4) / 2, 3 / 4 / 3], rtol=1e-6)


BAG_ERRORS = [  # (exception, message, (input, offsets, keyword arguments) from T)
    (ValueError, "offsets has to be a 1D Tensor but got None",
     lambda T: ([1, 2, 3], None, {})),
    (ValueError, "if input is 2D, then offsets has to be None",
     lambda T: ([[1, 2, 3]], [0], {})),
    (ValueError, "mode has to be one of sum, mean or max",
     lambda T: ([1, 2, 3], [0], {"mode": "min"})),
    (NotImplementedError, "only supported for mode='sum'",
     lambda T: ([1, 2, 3], [0], {"per_sample_weights": T.ones(3)})),
    (ValueError, "must have the same shape as the input",
     lambda T: ([1, 2, 3], [0], {"mode": "sum", "per_sample_weights": T.ones(2)})),
    (RuntimeError, "offsets\\[0\\] has to be 0", lambda T: ([1, 2, 3], [1], {})),
    (RuntimeError, "can not be greater than input's length", lambda T: ([1, 2, 3], [0, 4], {})),
    (RuntimeError, "which is not in the valid range", lambda T: ([1, 10], [0], {})),
    (RuntimeError, "padding_idx must be within the number of embeddings",
     lambda T: ([1, 2, 3], [0], {"padding_idx": 10})),
    (ValueError, "max mode does not support scaling",
     lambda T: ([1, 2, 3], [0], {"mode": "max", "scale_grad_by_freq": True})),
    (RuntimeError, "'indices' to have one of the following scalar types: Long, Int; but got "
     "torch.FloatTensor instead \\(while checking arguments for embedding_bag\\)",
     lambda T: (T.tensor([1.0, 2.0]), [0], {})),
]


@pytest.mark.parametrize("exc, msg, case", BAG_ERRORS)
def test_embedding_bag_errors_match_torch(exc, msg, case):
    for T in (ember, torch):
        ids, offsets, kwargs = case(T)
        ids = ids if hasattr(ids, "dim") else T.tensor(ids)
        with pytest.raises(exc, match=msg):
            T.nn.functional.embedding_bag(ids, T.randn(10, 3), None if offsets is None
                                          else T.tensor(offsets), **kwargs)


def test_embedding_bag_module_errors_match_torch():
    for T in (ember, torch):
        with pytest.raises(AssertionError, match="padding_idx must be within num_embeddings"):
            T.nn.EmbeddingBag(5, 2, padding_idx=5)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradcheck(mode):
    rs = np.random.RandomState(1)
    w = ember.tensor(rs.randn(10, 3), requires_grad=True)
    psw = ember.tensor(rs.randn(BAG_IDS.size), requires_grad=True)
    ids, offsets = ember.tensor(BAG_IDS), ember.tensor([0, 3, 3, 7])

    def f(w, psw=None):
        return ember.nn.functional.embedding_bag(
            ids, w, offsets, mode=mode, padding_idx=2,
            per_sample_weights=psw if mode == "sum" else None)

    assert ember.autograd.gradcheck(f, (w, psw) if mode == "sum" else (w,))
