"""Vocab: ordering, specials, lookups, unknown tokens, encode/decode, JSON save/load."""
import json
import os
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from ember.text import Vocab, build_vocab_from_iterator

SPECIALS = ["<pad>", "<unk>", "<bos>", "<eos>"]


# -- construction and order --------------------------------------------------------------


def test_constructor_keeps_given_order():
    v = Vocab(["c", "a", "b"])
    assert v.get_itos() == ["c", "a", "b"]
    assert v.get_stoi() == {"c": 0, "a": 1, "b": 2}
    assert len(v) == 3


def test_constructor_specials_first_or_last_and_deduplicated():
    v = Vocab(["a", "<unk>", "b"], specials=["<pad>", "<unk>"])
    assert v.get_itos() == ["<pad>", "<unk>", "a", "b"]
    assert v.specials == ("<pad>", "<unk>")
    v = Vocab(["a", "b"], specials=["<pad>", "<unk>"], special_first=False)
    assert v.get_itos() == ["a", "b", "<pad>", "<unk>"]


def test_constructor_rejects_duplicates_and_non_strings():
    with pytest.raises(ValueError, match="'a' appears more than once"):
        Vocab(["a", "b", "a"])
    with pytest.raises(ValueError, match="appears more than once"):
        Vocab(["a"], specials=["<pad>", "<pad>"])
    with pytest.raises(TypeError, match="must be a str"):
        Vocab(["a", 3])


def test_factory_orders_by_frequency_then_first_appearance():
    # a:5 b:2 r:2 c:1 d:1; ties keep first appearance (b before r, c before d)
    v = build_vocab_from_iterator("abracadabra")
    assert v.get_itos() == ["a", "b", "r", "c", "d"]
    # not alphabetical: "z" appears first
    assert build_vocab_from_iterator("zyx").get_itos() == ["z", "y", "x"]


def test_factory_accepts_tokens_and_token_lists_mixed():
    v = build_vocab_from_iterator([["x", "y"], "z", ["y"], ("w",)])
    assert v.get_itos() == ["y", "x", "z", "w"]
    # a str item is one token, not its characters
    assert build_vocab_from_iterator(["hello", "world", "hello"]).get_itos() == ["hello", "world"]
    # any iterator, e.g. a generator of lines
    lines = (line.split() for line in ["to be or", "not to be"])
    assert build_vocab_from_iterator(lines).get_itos() == ["to", "be", "or", "not"]


def test_factory_specials_first_last_and_not_counted():
    data = [["<unk>", "a", "b", "a", "<unk>", "<unk>"]]
    v = build_vocab_from_iterator(data, specials=SPECIALS)
    assert v.get_itos() == SPECIALS + ["a", "b"]
    v = build_vocab_from_iterator(data, specials=SPECIALS, special_first=False)
    assert v.get_itos() == ["a", "b"] + SPECIALS


def test_factory_min_freq():
    v = build_vocab_from_iterator("aaabbc", min_freq=2, specials=["<unk>"])
    assert v.get_itos() == ["<unk>", "a", "b"]
    with pytest.raises(ValueError, match="min_freq"):
        build_vocab_from_iterator("abc", min_freq=0)


def test_factory_max_tokens_counts_specials():
    v = build_vocab_from_iterator("aaabbc", specials=["<pad>", "<unk>"], max_tokens=3)
    assert v.get_itos() == ["<pad>", "<unk>", "a"]
    assert len(build_vocab_from_iterator("aaabbc", max_tokens=10)) == 3
    with pytest.raises(ValueError, match="max_tokens"):
        build_vocab_from_iterator("abc", specials=["<pad>", "<unk>"], max_tokens=2)


def test_factory_rejects_non_string_tokens():
    with pytest.raises(TypeError, match="tokens"):
        build_vocab_from_iterator([1, 2])
    with pytest.raises(TypeError, match="must be a str"):
        build_vocab_from_iterator([[1, 2]])


def test_factory_is_deterministic():
    words = "the cat sat on the mat while the dog sat".split()
    a = build_vocab_from_iterator([words], specials=["<unk>"])
    b = Vocab.from_iterator(iter([words]), specials=["<unk>"])
    assert a == b
    assert a.get_itos() == ["<unk>", "the", "sat", "cat", "on", "mat", "while", "dog"]


def test_from_text_uses_the_tokenizer():
    v = Vocab.from_text("Hello, hello world.", tokenizer="word", specials=["<unk>"])
    assert v.get_itos() == ["<unk>", "hello", ",", "world", "."]
    assert v.tokenizer.name == "basic_english"


# -- lookups -----------------------------------------------------------------------------


def test_getitem_contains_len_iter():
    v = Vocab(["a", "b"], specials=["<unk>"])
    assert v["a"] == 1 and v["<unk>"] == 0
    assert "a" in v and "z" not in v
    assert len(v) == 3
    assert list(v) == ["<unk>", "a", "b"]


def test_unknown_token_without_default_raises_key_error_naming_it():
    v = Vocab(["a", "b"])
    with pytest.raises(KeyError, match="'zebra'"):
        v["zebra"]
    with pytest.raises(KeyError, match="'q'"):
        v.lookup_indices(["a", "q"])
    assert v.get_default_index() is None


def test_default_index_maps_unknown_tokens():
    v = Vocab(["a", "b"], specials=["<unk>"])
    v.set_default_index(v["<unk>"])
    assert v.get_default_index() == 0
    assert v["zebra"] == 0
    assert v.lookup_indices(["a", "zebra", "b"]) == [1, 0, 2]
    assert v(["b", "?"]) == [2, 0]
    v.set_default_index(None)
    with pytest.raises(KeyError):
        v["zebra"]


def test_set_default_index_validates():
    v = Vocab(["a", "b"])
    with pytest.raises(IndexError, match="default index 2"):
        v.set_default_index(2)
    with pytest.raises(IndexError):
        v.set_default_index(-1)
    with pytest.raises(TypeError):
        v.set_default_index("a")
    v.set_default_index(np.int64(1))
    assert v.get_default_index() == 1
    assert Vocab(["a"], default_index=0).get_default_index() == 0


def test_lookup_tokens_and_token():
    v = Vocab(["a", "b", "c"])
    assert v.lookup_tokens([2, 0, 1]) == ["c", "a", "b"]
    assert v.lookup_tokens(np.array([1, 1])) == ["b", "b"]
    assert v.lookup_tokens(ember.tensor([0, 2])) == ["a", "c"]
    assert v.lookup_tokens([]) == []
    assert v.lookup_token(1) == "b"
    for bad in (3, -1):
        with pytest.raises(IndexError, match=f"token id {bad}"):
            v.lookup_token(bad)
        with pytest.raises(IndexError, match=f"token id {bad}"):
            v.lookup_tokens([0, bad])


def test_get_stoi_and_itos_are_copies():
    v = Vocab(["a", "b"])
    v.get_stoi()["z"] = 9
    v.get_itos().append("z")
    assert "z" not in v and len(v) == 2


def test_append_and_insert_token():
    v = Vocab(["a", "b"])
    v.append_token("<unk>")
    assert v["<unk>"] == 2
    v.insert_token("<pad>", 0)
    assert v.get_itos() == ["<pad>", "a", "b", "<unk>"]
    assert v.decode([1, 2]) == "ab"
    with pytest.raises(ValueError, match="already"):
        v.append_token("a")
    with pytest.raises(IndexError):
        v.insert_token("x", 9)


# -- encode / decode ---------------------------------------------------------------------


def test_encode_returns_int64_tensor_and_decode_round_trips():
    text = "hello world"
    v = Vocab.from_text(text)
    ids = v.encode(text)
    assert isinstance(ids, ember.Tensor)
    assert ids.dtype == ember.int64
    assert tuple(ids.shape) == (len(text),)
    assert ids.tolist() == [v[c] for c in text]
    assert v.decode(ids) == text
    assert v.decode(ids.numpy()) == text
    assert v.decode(ids.tolist()) == text


def test_encode_empty_text():
    v = Vocab(["a"])
    ids = v.encode("")
    assert tuple(ids.shape) == (0,) and ids.dtype == ember.int64
    assert v.decode(ids) == ""
    assert v.decode([]) == ""


def test_encode_unknown_char_raises_key_error_naming_the_first_one():
    v = Vocab.from_text("abc")
    with pytest.raises(KeyError, match="'z'"):
        v.encode("abzcy")
    v.append_token("<unk>")
    v.set_default_index(v["<unk>"])
    assert v.encode("abz").tolist() == [0, 1, 3]


def test_encode_astral_characters():
    v = Vocab.from_text("a😀b中")  # 😀 is above U+FFFF
    ids = v.encode("😀ab中😀")
    assert ids.tolist() == [v["😀"], v["a"], v["b"], v["中"], v["😀"]]
    assert v.decode(ids) == "😀ab中😀"
    with pytest.raises(KeyError, match="'🎉'"):
        v.encode("a🎉x")


@given(st.text(max_size=60), st.text(max_size=60))
@settings(max_examples=100, deadline=None)
def test_char_encode_matches_per_token_lookup(vocab_text, text):
    v = Vocab.from_text(vocab_text, specials=["<unk>", "<eos>"])
    v.set_default_index(v["<unk>"])
    assert v.encode(text).tolist() == v.lookup_indices(list(text))
    known = "".join(c for c in text if c in v)
    assert v.decode(v.encode(known)) == known


def test_decode_validates_ids():
    v = Vocab(["a", "b"])
    with pytest.raises(IndexError, match="token id 5"):
        v.decode([0, 5])
    with pytest.raises(ValueError, match="1-D"):
        v.decode(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(TypeError, match="integers"):
        v.decode([0.5])
    assert v.decode(1) == "b"


def test_word_vocab_encode_decode():
    text = "The cat sat. The dog sat!"
    v = Vocab.from_text(text, tokenizer="word", specials=["<unk>"])
    v.set_default_index(v["<unk>"])
    ids = v.encode("the cat, the bird.")
    assert ids.tolist() == [v["the"], v["cat"], 0, v["the"], 0, v["."]]
    assert v.decode(v.encode(text)) == "the cat sat. the dog sat!"


def test_byte_vocab_holds_the_whole_alphabet_and_encodes_anything():
    v = Vocab.from_text("hello", tokenizer="byte", specials=["<eos>"])
    assert len(v) == 257
    # seen bytes first by frequency, then the unseen ones in byte order
    assert v.get_itos()[:5] == ["<eos>", "l", "h", "e", "o"]
    assert v.get_itos()[5:8] == ["\x00", "\x01", "\x02"]
    for s in ["naïve café", "中文字符", "emoji 😀🎉", "\x00\ud800"]:
        assert v.decode(v.encode(s)) == s
    ids = v.encode("é").tolist()
    assert len(ids) == 2
    assert v.decode(ids + [v["<eos>"]]) == "é<eos>"


def test_byte_vocab_min_freq_and_max_tokens_keep_the_alphabet():
    v = build_vocab_from_iterator([["a", "a", "b", "<w>"]], min_freq=2, tokenizer="byte")
    assert len(v) == 256 and "<w>" not in v
    v = build_vocab_from_iterator(
        [["<w>", "<w>", "<x>", "a"]], tokenizer="byte", specials=["<eos>"], max_tokens=258
    )
    assert len(v) == 258 and "<w>" in v and "<x>" not in v
    with pytest.raises(ValueError, match="alphabet"):
        Vocab.from_text("hi", tokenizer="byte", max_tokens=100)


# -- save / load -------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    v = Vocab.from_text("hello world", specials=SPECIALS)
    v.set_default_index(v["<unk>"])
    path = tmp_path / "vocab.json"
    v.save(path)
    data = json.loads(path.read_text("utf-8"))
    assert data["format"] == "ember.text.Vocab" and data["tokenizer"] == "char"
    w = Vocab.load(path)
    assert w == v
    assert w.get_default_index() == v["<unk>"]
    assert w.specials == tuple(SPECIALS)
    assert w.decode(w.encode("hello")) == "hello"
    assert Vocab.load(str(path)) == v


@pytest.mark.parametrize("tokenizer", ["char", "word", "byte"])
def test_save_load_records_the_tokenizer(tmp_path, tokenizer):
    v = Vocab.from_text("Some text, with 'quotes' — and ünïcode\ud800.", tokenizer=tokenizer)
    v.save(tmp_path / "v.json")
    w = Vocab.load(tmp_path / "v.json")
    assert w == v and type(w.tokenizer) is type(v.tokenizer)


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "vocab.json"
    Vocab(["a"]).save(path)
    before = path.read_bytes()

    def broken_dump(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(json, "dump", broken_dump)
    with pytest.raises(KeyboardInterrupt):
        Vocab(["a", "b"]).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["vocab.json"]


@pytest.mark.parametrize(
    "content, match",
    [
        (b"\xff\xfe garbage", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (b'{"model": "weights"}', "'format'"),
        (b'{"format": "ember.text.Vocab", "version": 99, "itos": []}', "newer"),
        (b'{"format": "ember.text.Vocab", "version": 1, "itos": "abc"}', "'itos'"),
        (b'{"format": "ember.text.Vocab", "version": 1, "itos": ["a", 1]}', "'itos'"),
        (b'{"format": "ember.text.Vocab", "version": 1, "itos": ["a", "a"]}', "twice"),
        (
            b'{"format": "ember.text.Vocab", "version": 1, "itos": ["a"], "default_index": 4,'
            b' "tokenizer": "char"}',
            "default_index",
        ),
        (
            b'{"format": "ember.text.Vocab", "version": 1, "itos": ["a"], "specials": ["<u>"],'
            b' "tokenizer": "char"}',
            "special",
        ),
        (b'{"format": "ember.text.Vocab", "version": 1, "itos": ["a"]}', "tokenizer"),
    ],
)
def test_load_corrupt_or_foreign_file_raises_value_error(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as info:
        Vocab.load(path)
    assert "bad.json" in str(info.value)


def test_load_unknown_tokenizer_needs_an_explicit_one(tmp_path):
    path = tmp_path / "v.json"
    Vocab(["a", "b"]).save(path)
    data = json.loads(path.read_text())
    data["tokenizer"] = "my_bpe"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="my_bpe"):
        Vocab.load(path)
    assert Vocab.load(path, tokenizer="char").get_itos() == ["a", "b"]


def test_load_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        Vocab.load(tmp_path / "nope.json")


def test_to_dict_from_dict_and_pickle():
    v = Vocab.from_text("abcabc", specials=["<unk>"], tokenizer="byte")
    assert Vocab.from_dict(v.to_dict()) == v
    v.decode([1, 2])  # fills the decode cache, which pickling drops
    w = pickle.loads(pickle.dumps(v))
    assert w == v and w.decode(w.encode("é")) == "é"


def test_repr():
    assert repr(Vocab(["a"], specials=["<unk>"])) == (
        "Vocab(size=2, tokenizer='char', specials=['<unk>'], default_index=None)"
    )
