"""Tokenizers: text <-> list of string tokens, each with a ``name`` a Vocab file records.

Three are built in:

- ``"char"`` (:class:`CharTokenizer`): one token per Unicode code point.
- ``"basic_english"`` (alias ``"word"``, :class:`BasicEnglishTokenizer`): torchtext's
  ``get_tokenizer("basic_english")``: lowercase, split off ``' . , ( ) ! ?``, drop
  ``" ; :`` and ``<br />``, split on whitespace.
- ``"byte"`` (:class:`ByteTokenizer`): one token per UTF-8 byte, so its 256-token alphabet
  encodes any text at all; a byte-level Vocab can never meet a character it cannot encode.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "Tokenizer",
    "CharTokenizer",
    "BasicEnglishTokenizer",
    "ByteTokenizer",
    "get_tokenizer",
    "tokenizer_names",
]


class Tokenizer:
    """Base class: ``encode(text) -> list[str]`` and ``decode(tokens) -> str``.

    Subclasses set ``name`` (recorded in a saved Vocab, so the file says how to tokenize)
    and, when their token set is closed and small, ``alphabet``: every token they can ever
    produce. A Vocab built with such a tokenizer holds the whole alphabet, so encoding
    never fails.

    Calling a tokenizer is ``encode``, like the callables torchtext's ``get_tokenizer``
    returns.
    """

    name: str = ""
    alphabet: tuple[str, ...] | None = None

    def encode(self, text: str) -> list[str]:
        """Split ``text`` into tokens."""
        raise NotImplementedError

    def decode(self, tokens: Iterable[str]) -> str:
        """Join ``tokens`` back into text."""
        raise NotImplementedError

    def __call__(self, text: str) -> list[str]:
        return self.encode(text)

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.name == other.name

    def __hash__(self) -> int:
        return hash((type(self), self.name))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _check_text(text) -> str:
    if not isinstance(text, str):
        raise TypeError(f"expected text as str, got {type(text).__name__}")
    return text


class CharTokenizer(Tokenizer):
    """One token per Unicode code point; ``decode(encode(s)) == s`` for every string."""

    name = "char"

    def encode(self, text: str) -> list[str]:
        """Return the characters of ``text`` as a list."""
        return list(_check_text(text))

    def decode(self, tokens: Iterable[str]) -> str:
        """Concatenate ``tokens`` (specials such as ``<eos>`` come out literally)."""
        return "".join(tokens)


# torchtext's basic_english rules, applied in this order after lowercasing.
_BASIC_ENGLISH_RULES = [
    (re.compile(pattern), replacement)
    for pattern, replacement in [
        (r"\'", " '  "),
        (r"\"", ""),
        (r"\.", " . "),
        (r"<br \/>", " "),
        (r",", " , "),
        (r"\(", " ( "),
        (r"\)", " ) "),
        (r"\!", " ! "),
        (r"\?", " ? "),
        (r"\;", " "),
        (r"\:", " "),
        (r"\s+", " "),
    ]
]
# decode: no space before these tokens, none after "(".
_NO_SPACE_BEFORE = re.compile(r" ([.,!?)])")
_NO_SPACE_AFTER = re.compile(r"\( ")


class BasicEnglishTokenizer(Tokenizer):
    """Word-level tokenizer identical to torchtext's ``get_tokenizer("basic_english")``.

    Lowercases, puts spaces around ``' . , ( ) ! ?``, removes ``"``, replaces ``; :`` and
    ``<br />`` with a space, then splits on whitespace. It is lossy by design (case,
    spacing and some punctuation are dropped); ``decode`` joins words with single spaces
    and attaches ``. , ! ? )`` to the word before and ``(`` to the word after, so that
    ``encode(decode(tokens)) == tokens`` for tokens this tokenizer produced.
    """

    name = "basic_english"

    def encode(self, text: str) -> list[str]:
        """Return the normalised words and punctuation marks of ``text``."""
        line = _check_text(text).lower()
        for pattern, replacement in _BASIC_ENGLISH_RULES:
            line = pattern.sub(replacement, line)
        return line.split()

    def decode(self, tokens: Iterable[str]) -> str:
        """Join words with spaces, attaching punctuation as English prints it."""
        text = " ".join(tokens)
        text = _NO_SPACE_BEFORE.sub(r"\1", text)
        return _NO_SPACE_AFTER.sub("(", text)


# Byte b is the one-character token chr(b) (Latin-1), so ASCII text has the same
# tokens under "byte" as under "char".
_BYTE_ALPHABET = tuple(chr(b) for b in range(256))


class ByteTokenizer(Tokenizer):
    """One token per UTF-8 byte: lossless for any text, with a fixed 256-token alphabet.

    Byte ``b`` is the token ``chr(b)``, so ASCII characters are their own tokens and a
    non-ASCII character becomes two to four tokens. Lone surrogates (which ``str`` allows)
    are encoded with ``surrogatepass`` and so round-trip too.

    ``decode`` turns runs of byte tokens back into UTF-8 text; a byte sequence that is not
    valid UTF-8 (possible when a model generates bytes) is decoded with ``errors``
    (``"replace"`` by default, giving U+FFFD). Tokens outside the alphabet, such as
    specials like ``<eos>``, are copied through literally.
    """

    name = "byte"
    alphabet = _BYTE_ALPHABET

    def __init__(self, errors: str = "replace"):
        self.errors = errors

    def encode(self, text: str) -> list[str]:
        """Return the UTF-8 bytes of ``text``, each as a one-character token."""
        data = _check_text(text).encode("utf-8", "surrogatepass")
        return list(data.decode("latin-1"))

    def decode(self, tokens: Iterable[str]) -> str:
        """Decode byte tokens as UTF-8; other tokens pass through unchanged."""
        out: list[str] = []
        run: list[str] = []
        for token in tokens:
            if len(token) == 1 and ord(token) < 256:
                run.append(token)
                continue
            if run:
                out.append(self._decode_bytes("".join(run)))
                run = []
            out.append(token)
        if run:
            out.append(self._decode_bytes("".join(run)))
        return "".join(out)

    def _decode_bytes(self, latin1: str) -> str:
        data = latin1.encode("latin-1")
        try:
            return data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return data.decode("utf-8", self.errors)

    def __repr__(self) -> str:
        return f"ByteTokenizer(errors={self.errors!r})"


_REGISTRY: dict[str, type[Tokenizer]] = {
    "char": CharTokenizer,
    "basic_english": BasicEnglishTokenizer,
    "word": BasicEnglishTokenizer,
    "byte": ByteTokenizer,
}


def tokenizer_names() -> list[str]:
    """Names (and aliases) that :func:`get_tokenizer` accepts."""
    return sorted(_REGISTRY)


def get_tokenizer(tokenizer: str | Tokenizer) -> Tokenizer:
    """Return the tokenizer called ``tokenizer`` (``"char"``, ``"basic_english"`` or its
    alias ``"word"``, ``"byte"``); a :class:`Tokenizer` instance is returned unchanged.

    Mirrors ``torchtext.data.utils.get_tokenizer`` for ``"basic_english"``; the result
    is callable (``tok("some text")``) as torchtext's is.

    Raises:
        ValueError: for an unknown name.
        TypeError: for anything that is neither a name nor a Tokenizer.
    """
    if isinstance(tokenizer, Tokenizer):
        return tokenizer
    if isinstance(tokenizer, str):
        cls = _REGISTRY.get(tokenizer)
        if cls is None:
            raise ValueError(
                f"unknown tokenizer {tokenizer!r}; expected one of {tokenizer_names()}"
            )
        return cls()
    raise TypeError(
        f"tokenizer must be a name or a Tokenizer instance, got {type(tokenizer).__name__}"
    )
