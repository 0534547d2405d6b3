"""Sequence / NLP training workloads, written once as plain PyTorch, run on ember and on torch.

Each workload is a function ``run(T, ...)`` that only touches ``T.`` names, as a torch user
writes it (``T`` is the module ``ember`` or ``torch``). Both runs start from the same weights
(torch's initialisation, loaded into the ember model through ``load_state_dict``) and see the
same NumPy data, so losses, outputs and gradients must agree to float32 tolerance.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

V, PAD, BOS, EOS, B, L, H = 20, 0, 1, 2, 4, 6, 8
RTOL, ATOL = 1e-4, 1e-5


# --- helpers ----------------------------------------------------------------------------------
def _np(x):
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _compare(e, t, rtol=RTOL, atol=ATOL, where="out"):
    """Walk dicts / lists / tensors / numbers of the two runs and compare leaf by leaf."""
    if isinstance(t, dict):
        assert list(e) == list(t), where
        for k in t:
            _compare(e[k], t[k], rtol, atol, f"{where}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert len(e) == len(t), where
        for i, (a, b) in enumerate(zip(e, t)):
            _compare(a, b, rtol, atol, f"{where}[{i}]")
    elif t is None:
        assert e is None, where
    else:
        a, b = _np(e), _np(t)
        assert a.shape == b.shape, where
        if b.dtype.kind in "iub":
            np.testing.assert_array_equal(a, b, err_msg=where)
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=where)


def _state(model):
    return {k: _np(v).copy() for k, v in model.state_dict().items()}


def _load(T, model, state):
    model.load_state_dict({k: T.tensor(v) for k, v in state.items()})


def _both(run, *args, rtol=RTOL, atol=ATOL, **kwargs):
    """Run a workload on torch (its own init), then on ember from torch's initial weights."""
    torch.manual_seed(0)
    t = run(torch, None, *args, **kwargs)
    e = run(ember, t["init"], *args, **kwargs)
    _compare(e, t, rtol, atol)
    return e, t


def _sentences(n, seed, low=2, high=L):
    """``n`` token-id arrays of lengths in ``[low, high]``, ids in ``[3, V)``."""
    rs = np.random.RandomState(seed)
    return [rs.randint(3, V, rs.randint(low, high + 1)).astype(np.int64) for _ in range(n)]


def _padded(seqs, width=None):
    width = width or max(len(s) for s in seqs)
    out = np.full((len(seqs), width), PAD, np.int64)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = s
    return out


# --- 1. mean-pooled bag-of-embeddings classifier through a DataLoader -------------------------
def classifier_run(T, init, seqs, labels):
    nn, F = T.nn, T.nn.functional

    class MeanPoolClassifier(nn.Module):
        def __init__(self, vocab, dim, classes, pad):
            super().__init__()
            self.pad = pad
            self.emb = nn.Embedding(vocab, dim, padding_idx=pad)
            self.fc = nn.Linear(dim, classes)

        def forward(self, x):
            mask = (x != self.pad).unsqueeze(-1).float()
            summed = (self.emb(x) * mask).sum(dim=1)
            return self.fc(summed / mask.sum(dim=1).clamp(min=1.0))

    def collate_fn(batch):
        texts, ys = zip(*batch)
        x = nn.utils.rnn.pad_sequence([T.tensor(s) for s in texts], batch_first=True,
                                      padding_value=PAD)
        return x, T.tensor(ys)

    model = MeanPoolClassifier(V, H, 3, PAD)
    if init is not None:
        _load(T, model, init)
    out = {"init": _state(model), "losses": [], "pad_grad": []}
    loader = T.utils.data.DataLoader(list(zip(seqs, labels)), batch_size=B, shuffle=False,
                                     collate_fn=collate_fn)
    opt = T.optim.Adam(model.parameters(), lr=1e-2)
    for _epoch in range(2):
        for x, y in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            out["pad_grad"].append(model.emb.weight.grad[PAD].abs().sum().item())
            opt.step()
            out["losses"].append(loss.item())
    model.eval()
    with T.no_grad():
        out["pred"] = model(x).argmax(dim=-1)
        out["acc"] = (out["pred"] == y).float().mean().item()
    out["final"] = _state(model)
    return out


def test_mean_pool_classifier_with_pad_sequence_collate():
    seqs = _sentences(10, seed=1)
    labels = [int(s.sum() % 3) for s in seqs]
    e, _ = _both(classifier_run, seqs, labels)
    assert e["pad_grad"] == [0.0] * len(e["pad_grad"])
    assert len(e["losses"]) == 6


# --- 2. GRU encoder / LSTM decoder seq2seq with teacher forcing ------------------------------
def seq2seq_run(T, init, src, tgt, teacher, steps=3, decode_len=5):
    nn, F = T.nn, T.nn.functional

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, H, padding_idx=PAD)
            self.rnn = nn.GRU(H, H, batch_first=True, bidirectional=True)
            self.fc = nn.Linear(2 * H, H)

        def forward(self, src):
            outputs, hidden = self.rnn(self.emb(src))
            hidden = T.tanh(self.fc(T.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)))
            return outputs, hidden

    class Decoder(nn.Module):
        """An LSTM with Luong ("general") attention over the encoder outputs."""

        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, H, padding_idx=PAD)
            self.rnn = nn.LSTM(H, H, batch_first=True)
            self.Wa = nn.Linear(H, 2 * H, bias=False)
            self.Wc = nn.Linear(3 * H, H)
            self.out = nn.Linear(H, V)

        def forward(self, tokens, state, enc_out, src_pad):
            output, (h, c) = self.rnn(self.emb(tokens), state)
            scores = T.bmm(self.Wa(output), enc_out.transpose(1, 2))         # (N, T, S)
            scores = scores.masked_fill(src_pad.unsqueeze(1), float("-inf"))
            attn = F.softmax(scores, dim=-1)
            context = T.bmm(attn, enc_out)                                   # (N, T, 2H)
            return self.out(T.tanh(self.Wc(T.cat([output, context], dim=-1)))), (h, c)

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()
            self.decoder = Decoder()

        def init_state(self, src):
            enc_out, hidden = self.encoder(src)
            h0 = hidden.unsqueeze(0).contiguous()
            return (h0, T.zeros_like(h0)), enc_out, src == PAD

        def forward(self, src, tgt, teacher_forcing):
            state, enc_out, src_pad = self.init_state(src)
            inp, outputs = tgt[:, 0], []
            for t in range(1, tgt.size(1)):
                logits, state = self.decoder(inp.unsqueeze(1), state, enc_out, src_pad)
                logits = logits.squeeze(1)
                outputs.append(logits)
                inp = tgt[:, t] if teacher_forcing[t] else logits.argmax(1)
            return T.stack(outputs, dim=1)

    model = Seq2Seq()
    if init is not None:
        _load(T, model, init)
    out = {"init": _state(model), "losses": [], "full_tf": []}
    opt = T.optim.Adam(model.parameters(), lr=5e-3)
    src_t, tgt_t = T.tensor(src), T.tensor(tgt)
    for _ in range(steps):
        opt.zero_grad()
        logits = model(src_t, tgt_t, teacher)
        loss = F.cross_entropy(logits.view(-1, V), tgt_t[:, 1:].reshape(-1), ignore_index=PAD,
                               label_smoothing=0.1)
        loss.backward()
        opt.step()
        out["losses"].append(loss.item())
    # the usual batched teacher forcing: feed tgt[:, :-1] in one call
    (h0, c0), enc_out, src_pad = model.init_state(src_t)
    logits, (h_n, c_n) = model.decoder(tgt_t[:, :-1], (h0, c0), enc_out, src_pad)
    opt.zero_grad()
    loss = F.cross_entropy(logits.reshape(-1, V), tgt_t[:, 1:].reshape(-1), ignore_index=PAD)
    loss.backward()
    out["full_tf"] = [loss, h_n, c_n, model.encoder.rnn.weight_hh_l0_reverse.grad,
                      model.decoder.emb.weight.grad, model.decoder.Wa.weight.grad]
    # greedy decoding
    model.eval()
    with T.no_grad():
        state, enc_out, src_pad = model.init_state(src_t)
        inp = T.full((src_t.size(0), 1), BOS, dtype=T.long)
        tokens, scores = [], []
        for _ in range(decode_len):
            logits, state = model.decoder(inp, state, enc_out, src_pad)
            logp = F.log_softmax(logits[:, -1], dim=-1)
            top_v, top_i = logp.topk(2, dim=-1)
            inp = logp.argmax(dim=-1, keepdim=True)
            assert bool((inp == top_i[:, :1]).all())
            tokens.append(inp)
            scores.append(top_v)
        out["greedy"] = T.cat(tokens, dim=1)
        out["scores"] = T.stack(scores, dim=1)
    return out


def test_seq2seq_teacher_forcing_and_greedy_decoding():
    src = _padded(_sentences(B, seed=2))
    tgt = _padded([np.concatenate([[BOS], s]) for s in _sentences(B, seed=3, high=L - 1)])
    teacher = [True, True, False, True, False, True]
    e, _ = _both(seq2seq_run, src, tgt, teacher)
    assert e["greedy"].dtype == ember.int64 and e["greedy"].shape == (B, 5)


# --- 3. Transformer encoder LM: positional encoding, masks, AdamW, warmup, clipping ----------
def transformer_lm(T, d_model=16, nhead=2, dim_ff=32, num_layers=2):
    nn = T.nn

    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, max_len=32):
            super().__init__()
            pe = T.zeros(max_len, d_model)
            position = T.arange(0, max_len, dtype=T.float).unsqueeze(1)
            div_term = T.exp(T.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
            pe[:, 0::2] = T.sin(position * div_term)
            pe[:, 1::2] = T.cos(position * div_term)
            self.register_buffer("pe", pe.unsqueeze(0))

        def forward(self, x):
            return x + self.pe[:, :x.size(1)]

    class TinyLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.d_model = d_model
            self.embed = nn.Embedding(V, d_model, padding_idx=PAD)
            self.pos = PositionalEncoding(d_model)
            layer = nn.TransformerEncoderLayer(d_model, nhead, dim_ff, dropout=0.0,
                                               batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers)
            self.head = nn.Linear(d_model, V)

        def forward(self, x, mask=None, pad_mask=None):
            h = self.pos(self.embed(x) * math.sqrt(self.d_model))
            return self.head(self.encoder(h, mask=mask, src_key_padding_mask=pad_mask))

    return TinyLM()


def transformer_run(T, init, tokens, variant, steps=4):
    F = T.nn.functional
    model = transformer_lm(T)
    if init is not None:
        _load(T, model, init)
    out = {"init": _state(model), "losses": [], "norms": [], "lrs": []}
    x = T.tensor(tokens)
    length = x.size(1)
    opt = T.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.98), eps=1e-9,
                        weight_decay=0.01)
    if variant == "float_mask_lambda":
        mask = T.nn.Transformer.generate_square_subsequent_mask(length)
        pad_mask = None
        warmup = 2
        sched = T.optim.lr_scheduler.LambdaLR(
            opt, lambda step: min((step + 1) / warmup, 1.0 / math.sqrt(step + 1)))
    else:
        mask = T.triu(T.ones(length, length), diagonal=1).bool()
        pad_mask = x == PAD
        sched = T.optim.lr_scheduler.OneCycleLR(opt, max_lr=5e-3, total_steps=steps,
                                                pct_start=0.3)
    out["mask"] = mask
    for _ in range(steps):
        logits = model(x, mask, pad_mask)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), x[:, 1:].reshape(-1),
                               ignore_index=PAD)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        out["norms"].append(T.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5))
        opt.step()
        sched.step()
        out["losses"].append(loss.item())
        out["lrs"].append(sched.get_last_lr()[0])
    model.eval()
    with T.no_grad():
        out["eval_logits"] = model(x, mask, pad_mask)
    final = _state(model)
    for k in final:
        if k.endswith("in_proj_bias"):
            # the key bias has an exactly-zero gradient (it shifts all of a query's scores
            # alike), so Adam turns rounding noise into full-size steps: leave it out
            final[k] = np.delete(final[k], np.s_[16:32])
    out["final"] = final
    return out


@pytest.mark.parametrize("variant", ["float_mask_lambda", "bool_mask_padding_onecycle"])
def test_transformer_lm_training(variant):
    tokens = _padded([np.concatenate([[BOS], s]) for s in _sentences(B, seed=4, high=L - 1)],
                     width=L)
    _both(transformer_run, tokens, variant, rtol=2e-4, atol=2e-5)


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
@pytest.mark.parametrize("grad, final_norm", [(False, False), (False, True), (True, False)],
                         ids=["no_grad", "no_grad_final_norm", "grad_enabled"])
def test_transformer_encoder_inference_with_padding_mask(grad, final_norm):
    """Eval + no_grad + only a key padding mask: torch runs nested tensors and pads back with
    zeros (then applies ``norm``); with grad enabled it takes the plain path."""
    tokens = _padded([np.concatenate([[BOS], s]) for s in _sentences(B, seed=5, high=L - 1)],
                     width=L)
    torch.manual_seed(0)
    outs, init = [], None
    for T in (torch, ember):
        layer = T.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
        model = T.nn.TransformerEncoder(layer, 2, norm=T.nn.LayerNorm(16) if final_norm
                                        else None).eval()
        if init is None:
            init = _state(model)
            if final_norm:
                init["norm.bias"] = np.random.RandomState(7).randn(16).astype(np.float32)
        _load(T, model, init)
        x = T.tensor(np.random.RandomState(6).randn(B, L, 16).astype(np.float32))
        with T.set_grad_enabled(grad):
            outs.append(_np(model(x, src_key_padding_mask=T.tensor(tokens == PAD))))
    t_out, e_out = outs
    pad = tokens == PAD
    _compare(e_out[~pad], t_out[~pad])
    if grad:
        _compare(e_out, t_out)                           # the plain path everywhere
    else:
        # what torch's nested path leaves at padded positions: norm(0) = its bias, or 0
        expected = init["norm.bias"] if final_norm else np.zeros(16, np.float32)
        _compare(e_out[pad], np.broadcast_to(expected, e_out[pad].shape))
        if torch.backends.mha.get_fastpath_enabled():
            _compare(e_out, t_out)


# --- 4. sampling with temperature and a seeded generator --------------------------------------
def sample_run(T, init, prompt, temperature, new_tokens=4):
    F = T.nn.functional
    model = transformer_lm(T)
    if init is not None:
        _load(T, model, init)
    model.eval()
    g = T.Generator().manual_seed(1234)
    idx = T.tensor(prompt)
    first_probs = None
    with T.no_grad():
        for _ in range(new_tokens):
            n = idx.size(1)
            mask = T.nn.Transformer.generate_square_subsequent_mask(n)
            logits = model(idx, mask)[:, -1, :]
            probs = F.softmax(logits / temperature, dim=-1)
            if first_probs is None:
                first_probs = probs
            next_id = T.multinomial(probs, num_samples=1, generator=g)
            idx = T.cat((idx, next_id), dim=1)
    return {"init": _state(model), "probs": first_probs, "idx": idx}


def test_sampling_with_temperature_and_generator():
    prompt = np.array([[BOS, 5], [BOS, 7], [BOS, 3]], np.int64)
    torch.manual_seed(0)
    t = sample_run(torch, None, prompt, 1.0)
    e = sample_run(ember, t["init"], prompt, 1.0)
    _compare(e["probs"], t["probs"])                    # the RNGs differ: compare validity
    assert e["idx"].shape == t["idx"].shape and e["idx"].dtype == ember.int64
    ids = e["idx"].numpy()
    assert (ids[:, :2] == prompt).all() and ((ids >= 0) & (ids < V)).all()
    # the same generator seed gives the same samples twice
    again = sample_run(ember, t["init"], prompt, 1.0)
    _compare(again["idx"], e["idx"])
    # a near-zero temperature makes the draw the argmax: exact agreement
    t_cold = sample_run(torch, t["init"], prompt, 1e-3)
    e_cold = sample_run(ember, t["init"], prompt, 1e-3)
    _compare(e_cold["idx"], t_cold["idx"])


# --- 5. the nn.Transformer translation tutorial (sequence-first) ------------------------------
def translation_run(T, init, src, tgt, steps=3):
    nn = T.nn

    class PositionalEncoding(nn.Module):
        def __init__(self, emb_size, dropout, maxlen=50):
            super().__init__()
            den = T.exp(- T.arange(0, emb_size, 2) * math.log(10000) / emb_size)
            pos = T.arange(0, maxlen).reshape(maxlen, 1)
            pos_embedding = T.zeros((maxlen, emb_size))
            pos_embedding[:, 0::2] = T.sin(pos * den)
            pos_embedding[:, 1::2] = T.cos(pos * den)
            pos_embedding = pos_embedding.unsqueeze(-2)
            self.dropout = nn.Dropout(dropout)
            self.register_buffer("pos_embedding", pos_embedding)

        def forward(self, token_embedding):
            return self.dropout(token_embedding + self.pos_embedding[:token_embedding.size(0), :])

    class TokenEmbedding(nn.Module):
        def __init__(self, vocab_size, emb_size):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, emb_size)
            self.emb_size = emb_size

        def forward(self, tokens):
            return self.embedding(tokens.long()) * math.sqrt(self.emb_size)

    class Seq2SeqTransformer(nn.Module):
        def __init__(self, num_encoder_layers, num_decoder_layers, emb_size, nhead, vocab,
                     dim_feedforward=32, dropout=0.0):
            super().__init__()
            self.transformer = nn.Transformer(d_model=emb_size, nhead=nhead,
                                              num_encoder_layers=num_encoder_layers,
                                              num_decoder_layers=num_decoder_layers,
                                              dim_feedforward=dim_feedforward, dropout=dropout)
            self.generator = nn.Linear(emb_size, vocab)
            self.src_tok_emb = TokenEmbedding(vocab, emb_size)
            self.tgt_tok_emb = TokenEmbedding(vocab, emb_size)
            self.positional_encoding = PositionalEncoding(emb_size, dropout=dropout)

        def forward(self, src, trg, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask,
                    memory_key_padding_mask):
            src_emb = self.positional_encoding(self.src_tok_emb(src))
            tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
            outs = self.transformer(src_emb, tgt_emb, src_mask, tgt_mask, None,
                                    src_padding_mask, tgt_padding_mask, memory_key_padding_mask)
            return self.generator(outs)

        def encode(self, src, src_mask):
            return self.transformer.encoder(self.positional_encoding(self.src_tok_emb(src)),
                                            src_mask)

        def decode(self, tgt, memory, tgt_mask):
            return self.transformer.decoder(self.positional_encoding(self.tgt_tok_emb(tgt)),
                                            memory, tgt_mask)

    def generate_square_subsequent_mask(sz):
        mask = (T.triu(T.ones((sz, sz))) == 1).transpose(0, 1)
        mask = mask.float().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, 0.0)
        return mask

    def create_mask(src, tgt):
        src_seq_len, tgt_seq_len = src.shape[0], tgt.shape[0]
        tgt_mask = generate_square_subsequent_mask(tgt_seq_len)
        src_mask = T.zeros((src_seq_len, src_seq_len)).type(T.bool)
        src_padding_mask = (src == PAD).transpose(0, 1)
        tgt_padding_mask = (tgt == PAD).transpose(0, 1)
        return src_mask, tgt_mask, src_padding_mask, tgt_padding_mask

    def greedy_decode(model, src, src_mask, max_len, start_symbol):
        memory = model.encode(src, src_mask)
        ys = T.ones(1, 1).fill_(start_symbol).type(T.long)
        for _ in range(max_len - 1):
            tgt_mask = (generate_square_subsequent_mask(ys.size(0)).type(T.bool))
            out = model.decode(ys, memory, tgt_mask)
            out = out.transpose(0, 1)
            prob = model.generator(out[:, -1])
            _, next_word = T.max(prob, dim=1)
            next_word = next_word.item()
            ys = T.cat([ys, T.ones(1, 1).type_as(src.data).fill_(next_word)], dim=0)
            if next_word == EOS:
                break
        return ys

    model = Seq2SeqTransformer(2, 2, 16, 2, V)
    if init is None:
        for p in model.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
    else:
        _load(T, model, init)
    out = {"init": _state(model), "losses": []}
    loss_fn = T.nn.CrossEntropyLoss(ignore_index=PAD)
    optimizer = T.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-9)
    src_t, tgt_t = T.tensor(src).T.contiguous(), T.tensor(tgt).T.contiguous()   # (S, N)
    for _ in range(steps):
        tgt_input = tgt_t[:-1, :]
        src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src_t, tgt_input)
        logits = model(src_t, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask,
                       src_padding_mask)
        optimizer.zero_grad()
        tgt_out = tgt_t[1:, :]
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
        loss.backward()
        optimizer.step()
        out["losses"].append(loss.item())
    model.eval()
    with T.no_grad():
        src0 = src_t[:, :1]
        num_tokens = src0.shape[0]
        src_mask = (T.zeros(num_tokens, num_tokens)).type(T.bool)
        out["greedy"] = greedy_decode(model, src0, src_mask, max_len=num_tokens + 3,
                                      start_symbol=BOS).flatten()
    return out


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
def test_transformer_translation_tutorial():
    src = _padded(_sentences(B, seed=10, low=3))
    tgt = _padded([np.concatenate([[BOS], s, [EOS]]) for s in _sentences(B, seed=11,
                                                                          high=L - 2)])
    e, _ = _both(translation_run, src, tgt)
    assert e["greedy"][0].item() == BOS and e["greedy"].dtype == ember.int64
