"""Tokenizers: names, round trips, torchtext's basic_english rules, lossless bytes."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ember.text.tokenizers import (
    BasicEnglishTokenizer,
    ByteTokenizer,
    CharTokenizer,
    Tokenizer,
    get_tokenizer,
    tokenizer_names,
)


def test_get_tokenizer_by_name_and_alias():
    assert isinstance(get_tokenizer("char"), CharTokenizer)
    assert isinstance(get_tokenizer("basic_english"), BasicEnglishTokenizer)
    assert isinstance(get_tokenizer("word"), BasicEnglishTokenizer)
    assert isinstance(get_tokenizer("byte"), ByteTokenizer)
    assert get_tokenizer("word").name == "basic_english"
    tok = ByteTokenizer()
    assert get_tokenizer(tok) is tok
    assert {"char", "basic_english", "word", "byte"} <= set(tokenizer_names())


def test_get_tokenizer_unknown_name_raises_value_error():
    with pytest.raises(ValueError, match="unknown tokenizer 'spacy'"):
        get_tokenizer("spacy")
    with pytest.raises(TypeError):
        get_tokenizer(3)


def test_tokenizer_is_callable_like_torchtext():
    assert get_tokenizer("basic_english")("Hi there.") == ["hi", "there", "."]


@pytest.mark.parametrize("name", ["char", "basic_english", "byte"])
def test_encode_rejects_non_str(name):
    with pytest.raises(TypeError, match="str"):
        get_tokenizer(name).encode(b"bytes")


def test_base_tokenizer_is_abstract():
    with pytest.raises(NotImplementedError):
        Tokenizer().encode("x")


@given(st.text())
@settings(max_examples=200, deadline=None)
def test_char_round_trip(s):
    tok = CharTokenizer()
    assert tok.decode(tok.encode(s)) == s
    assert len(tok.encode(s)) == len(s)


@given(st.text())
@settings(max_examples=200, deadline=None)
def test_byte_round_trip_any_text(s):
    tok = ByteTokenizer()
    tokens = tok.encode(s)
    assert all(t in tok.alphabet for t in tokens)
    assert tok.decode(tokens) == s


def test_byte_round_trip_lone_surrogate():
    s = "a\ud800b\udfff"
    tok = ByteTokenizer()
    assert tok.decode(tok.encode(s)) == s


def test_byte_alphabet_is_256_single_chars_and_ascii_is_itself():
    tok = ByteTokenizer()
    assert len(tok.alphabet) == 256 and len(set(tok.alphabet)) == 256
    assert tok.encode("Hello") == list("Hello")
    assert tok.encode("é") == ["\xc3", "\xa9"]
    assert len(tok.encode("😀")) == 4


def test_byte_decode_invalid_utf8_replaces_and_passes_specials_through():
    tok = ByteTokenizer()
    assert tok.decode(["\xff", "a", "<eos>", "\xc3"]) == "\ufffda<eos>\ufffd"
    assert tok.decode(["<bos>"] + tok.encode("ü") + ["<eos>"]) == "<bos>ü<eos>"
    with pytest.raises(UnicodeDecodeError):
        ByteTokenizer(errors="strict").decode(["\xff"])


def test_basic_english_matches_torchtext_rules():
    tok = BasicEnglishTokenizer()
    text = "Hello, World! (It's) \"quoted\" a;b:c<br />end.  Tabs\there?"
    assert tok.encode(text) == [
        "hello", ",", "world", "!", "(", "it", "'", "s", ")", "quoted",
        "a", "b", "c", "end", ".", "tabs", "here", "?",
    ]
    assert tok.encode("") == []
    assert tok.encode("  \n ") == []


def test_basic_english_decode_attaches_punctuation():
    tok = BasicEnglishTokenizer()
    assert tok.decode(["hello", ",", "world", "(", "yes", ")", "!"]) == "hello, world (yes)!"


@given(st.text(alphabet="abcXY .,!?()';:\"\n\t", max_size=40))
@settings(max_examples=300, deadline=None)
def test_basic_english_decode_then_encode_gives_the_same_tokens(s):
    tok = BasicEnglishTokenizer()
    tokens = tok.encode(s)
    assert tok.encode(tok.decode(tokens)) == tokens


def test_tokenizers_compare_by_kind():
    assert CharTokenizer() == CharTokenizer()
    assert CharTokenizer() != ByteTokenizer()
    assert hash(get_tokenizer("word")) == hash(BasicEnglishTokenizer())
