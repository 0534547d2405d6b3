"""Vocab: the token <-> id mapping, with its tokenizer, saved as JSON.

A maintained stand-in for ``torchtext.vocab.Vocab`` and ``build_vocab_from_iterator``
(torchtext is no longer developed), plus ``encode``/``decode`` between text and int64
tensors through the Vocab's tokenizer.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator

import numpy as np

import ember
from ember._io import atomic_write
from ember.text.tokenizers import ByteTokenizer, CharTokenizer, Tokenizer, get_tokenizer

__all__ = ["Vocab", "build_vocab_from_iterator"]

_FORMAT = "ember.text.Vocab"
_VERSION = 1


def _ids_to_numpy(ids) -> np.ndarray:
    """Token ids (tensor, array, sequence or int) as a 1-D int64 array."""
    if isinstance(ids, ember.Tensor):
        ids = ids.detach().numpy()
    arr = np.asarray(ids)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"token ids must be integers, got dtype {arr.dtype}")
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D sequence of token ids, got shape {tuple(arr.shape)}")
    return arr.astype(np.int64, copy=False)


class Vocab:
    """Maps tokens (strings) to consecutive ids ``0 .. len(vocab) - 1`` and back.

    Args:
        tokens: the tokens in id order; they must be distinct strings. Use
            :func:`build_vocab_from_iterator` (or :meth:`from_iterator`, :meth:`from_text`)
            to count tokens and order them by frequency instead.
        specials: tokens such as ``"<pad>"``, ``"<unk>"``, ``"<bos>"``, ``"<eos>"`` placed
            before (``special_first=True``) or after the others, in the order given; a
            special that also occurs in ``tokens`` is kept only once, as a special.
        special_first: where the specials go.
        tokenizer: how :meth:`encode`/:meth:`decode` split and join text: a name
            (``"char"``, ``"basic_english"``/``"word"``, ``"byte"``) or a
            :class:`~ember.text.tokenizers.Tokenizer`. Its name is recorded by :meth:`save`.
        default_index: id returned for unknown tokens (see :meth:`set_default_index`);
            ``None`` makes an unknown token raise ``KeyError``.

    Differences from torchtext: an unknown token without a default index raises
    ``KeyError`` naming it (torchtext raises ``RuntimeError``); the tokenizer is part of
    the Vocab; ``lookup_token`` raises ``IndexError`` for an id out of range.

    Raises:
        TypeError: a token that is not a ``str``.
        ValueError: a token that appears twice.
    """

    def __init__(
        self,
        tokens: Iterable[str] = (),
        specials: Iterable[str] | None = None,
        special_first: bool = True,
        tokenizer: str | Tokenizer = "char",
        default_index: int | None = None,
    ):
        specials = list(specials or ())
        _check_tokens(specials, "special")
        _check_distinct(specials, "special")
        special_set = set(specials)
        tokens = [t for t in tokens if t not in special_set] if specials else list(tokens)
        _check_tokens(tokens, "token")
        _check_distinct(tokens, "token")
        itos = specials + tokens if special_first else tokens + specials
        self._itos: list[str] = itos
        self._stoi: dict[str, int] = {t: i for i, t in enumerate(itos)}
        self._specials: tuple[str, ...] = tuple(specials)
        self._tokenizer: Tokenizer = get_tokenizer(tokenizer)
        self._default_index: int | None = None
        self._itos_array: np.ndarray | None = None  # object array for fast decode
        if default_index is not None:
            self.set_default_index(default_index)

    # -- construction helpers -------------------------------------------------------------

    @classmethod
    def from_iterator(cls, iterator, **kwargs) -> Vocab:
        """Same as :func:`build_vocab_from_iterator`."""
        return build_vocab_from_iterator(iterator, **kwargs)

    @classmethod
    def from_text(
        cls, text: str, tokenizer: str | Tokenizer = "char", **kwargs
    ) -> Vocab:
        """Tokenize ``text`` with ``tokenizer`` and build a Vocab from the tokens.

        ``kwargs`` are those of :func:`build_vocab_from_iterator` (``min_freq``,
        ``specials``, ``special_first``, ``max_tokens``).
        """
        tok = get_tokenizer(tokenizer)
        return build_vocab_from_iterator([tok.encode(text)], tokenizer=tok, **kwargs)

    # -- the mapping --------------------------------------------------------------------

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer :meth:`encode` and :meth:`decode` use."""
        return self._tokenizer

    @property
    def specials(self) -> tuple[str, ...]:
        """The special tokens given at construction, in their order."""
        return self._specials

    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token) -> bool:
        return token in self._stoi

    def __iter__(self) -> Iterator[str]:
        return iter(self._itos)

    def __getitem__(self, token: str) -> int:
        """Id of ``token``; the default index for an unknown token if one is set.

        Raises:
            KeyError: unknown token and no default index; the message names the token.
        """
        index = self._stoi.get(token)
        if index is not None:
            return index
        if self._default_index is not None:
            return self._default_index
        raise KeyError(
            f"token {token!r} is not in the vocabulary and no default index is set "
            "(see Vocab.set_default_index)"
        )

    def __call__(self, tokens: Iterable[str]) -> list[int]:
        """Same as :meth:`lookup_indices` (torchtext's ``Vocab.forward``)."""
        return self.lookup_indices(tokens)

    def set_default_index(self, index: int | None) -> None:
        """Make unknown tokens map to ``index`` (typically ``vocab["<unk>"]``); ``None``
        makes them raise ``KeyError`` again.

        Raises:
            IndexError: ``index`` is not an id of this vocabulary.
        """
        if index is not None:
            index = _as_int(index, "default index")
            if not 0 <= index < len(self._itos):
                raise IndexError(
                    f"default index {index} is out of range for a vocabulary of "
                    f"{len(self._itos)} tokens"
                )
        self._default_index = index

    def get_default_index(self) -> int | None:
        """The id used for unknown tokens, or ``None``."""
        return self._default_index

    def lookup_indices(self, tokens: Iterable[str]) -> list[int]:
        """Ids of ``tokens`` (see :meth:`__getitem__` for unknown ones)."""
        stoi, default = self._stoi, self._default_index
        if default is not None:
            return [stoi.get(t, default) for t in tokens]
        return [stoi[t] if t in stoi else self[t] for t in tokens]

    def lookup_token(self, index: int) -> str:
        """Token with id ``index``.

        Raises:
            IndexError: ``index`` outside ``0 .. len(self) - 1``.
        """
        index = _as_int(index, "token id")
        if not 0 <= index < len(self._itos):
            raise IndexError(
                f"token id {index} is out of range for a vocabulary of {len(self._itos)} tokens"
            )
        return self._itos[index]

    def lookup_tokens(self, indices) -> list[str]:
        """Tokens for the ids ``indices`` (a list, array or 1-D tensor)."""
        ids = _ids_to_numpy(indices)
        self._check_ids(ids)
        itos = self._itos
        return [itos[i] for i in ids.tolist()]

    def get_stoi(self) -> dict[str, int]:
        """A new dict from token to id."""
        return dict(self._stoi)

    def get_itos(self) -> list[str]:
        """A new list of the tokens in id order."""
        return list(self._itos)

    def append_token(self, token: str) -> None:
        """Add ``token`` at the end (id ``len(self)``).

        Raises:
            ValueError: ``token`` is already in the vocabulary.
        """
        self.insert_token(token, len(self._itos))

    def insert_token(self, token: str, index: int) -> None:
        """Insert ``token`` at id ``index``, shifting later tokens up by one.

        As in torchtext the default index is a number and is not shifted.

        Raises:
            ValueError: ``token`` is already in the vocabulary.
            IndexError: ``index`` outside ``0 .. len(self)``.
        """
        _check_tokens([token], "token")
        if token in self._stoi:
            raise ValueError(f"token {token!r} is already in the vocabulary")
        index = _as_int(index, "index")
        if not 0 <= index <= len(self._itos):
            raise IndexError(
                f"index {index} is out of range for inserting into a vocabulary of "
                f"{len(self._itos)} tokens"
            )
        self._itos.insert(index, token)
        self._stoi = {t: i for i, t in enumerate(self._itos)}
        self._itos_array = None

    # -- text <-> ids ---------------------------------------------------------------------

    def encode(self, text: str) -> ember.Tensor:
        """Tokenize ``text`` and return its ids as a 1-D ``ember.int64`` tensor.

        Raises:
            KeyError: a token is unknown and no default index is set (names the token).
        """
        tok = self._tokenizer
        if type(tok) is CharTokenizer or type(tok) is ByteTokenizer:
            ids = self._encode_codepoints(text, byte_level=type(tok) is ByteTokenizer)
        else:
            ids = np.asarray(self.lookup_indices(tok.encode(text)), dtype=np.int64)
        return ember.from_numpy(ids.reshape(-1))

    def _encode_codepoints(self, text: str, byte_level: bool) -> np.ndarray:
        # Vectorised: one dict lookup per distinct character instead of one per character.
        if not isinstance(text, str):
            raise TypeError(f"expected text as str, got {type(text).__name__}")
        if byte_level:
            cps = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
        else:
            cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        if cps.size == 0:
            return np.zeros(0, dtype=np.int64)
        if cps.max() < 1 << 16:  # a lookup table over the code points present
            present = np.zeros(int(cps.max()) + 1, dtype=bool)
            present[cps] = True
            distinct = np.flatnonzero(present)
            inverse = None
        else:  # astral characters: a table would be large, so sort instead
            distinct, inverse = np.unique(cps, return_inverse=True)
        known = [chr(c) in self._stoi for c in distinct.tolist()]
        if not all(known) and self._default_index is None:
            # Name the first unknown character of the text in the KeyError.
            unknown = distinct[~np.asarray(known)]
            first = cps[np.isin(cps, unknown)][0]
            self[chr(int(first))]  # raises KeyError
        ids = np.asarray(self.lookup_indices(chr(c) for c in distinct.tolist()), dtype=np.int64)
        if inverse is not None:
            return ids[inverse.reshape(-1)]
        lut = np.zeros(int(distinct[-1]) + 1, dtype=np.int64)
        lut[distinct] = ids
        return lut[cps]

    def decode(self, ids) -> str:
        """Turn ids (a 1-D tensor, array or list) back into text with the tokenizer.

        For the ``"char"`` and ``"byte"`` tokenizers ``decode(encode(s)) == s`` whenever
        every character of ``s`` is in the vocabulary.

        Raises:
            IndexError: an id is out of range.
        """
        arr = _ids_to_numpy(ids)
        self._check_ids(arr)
        if self._itos_array is None:
            self._itos_array = np.empty(len(self._itos), dtype=object)
            self._itos_array[:] = self._itos
        return self._tokenizer.decode(self._itos_array[arr].tolist())

    def _check_ids(self, ids: np.ndarray) -> None:
        if ids.size and (ids.min() < 0 or ids.max() >= len(self._itos)):
            bad = int(ids[(ids < 0) | (ids >= len(self._itos))][0])
            raise IndexError(
                f"token id {bad} is out of range for a vocabulary of {len(self._itos)} tokens"
            )

    # -- persistence ----------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The JSON-ready description :meth:`save` writes."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "tokenizer": self._tokenizer.name,
            "specials": list(self._specials),
            "default_index": self._default_index,
            "itos": list(self._itos),
        }

    @classmethod
    def from_dict(cls, data, tokenizer: str | Tokenizer | None = None) -> Vocab:
        """Rebuild a Vocab from :meth:`to_dict`'s output.

        Args:
            data: the dict.
            tokenizer: overrides the recorded tokenizer name (needed for a custom
                tokenizer that :func:`~ember.text.tokenizers.get_tokenizer` does not know).

        Raises:
            ValueError: ``data`` is not a Vocab description, or is inconsistent.
        """
        return _vocab_from_dict(data, tokenizer, source="data")

    def save(self, path: str | os.PathLike) -> None:
        """Write the Vocab to ``path`` as JSON, atomically (a crash leaves the old file)."""
        with atomic_write(path, "w") as f:
            # ensure_ascii keeps any str (even a lone surrogate) writable as UTF-8.
            json.dump(self.to_dict(), f, indent=1)
            f.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike, tokenizer: str | Tokenizer | None = None) -> Vocab:
        """Read a Vocab written by :meth:`save`.

        Raises:
            FileNotFoundError: no such file.
            ValueError: the file is not valid UTF-8 JSON, or is not an ember Vocab file,
                or its contents are inconsistent; the message names the file.
        """
        path = os.fspath(path)
        with open(path, "rb") as f:
            raw = f.read()
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path} is not an ember Vocab file: not valid JSON ({e})") from e
        return _vocab_from_dict(data, tokenizer, source=path)

    # -- misc -----------------------------------------------------------------------------

    def __eq__(self, other) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return (
            self._itos == other._itos
            and self._specials == other._specials
            and self._default_index == other._default_index
            and self._tokenizer == other._tokenizer
        )

    __hash__ = None  # mutable (set_default_index, append_token)

    def __repr__(self) -> str:
        return (
            f"Vocab(size={len(self)}, tokenizer={self._tokenizer.name!r}, "
            f"specials={list(self._specials)}, default_index={self._default_index})"
        )

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_itos_array"] = None
        return state


def _vocab_from_dict(data, tokenizer, source: str) -> Vocab:
    def bad(why: str) -> ValueError:
        return ValueError(f"{source} is not an ember Vocab file: {why}")

    if not isinstance(data, dict):
        raise bad(f"expected a JSON object, got {type(data).__name__}")
    if data.get("format") != _FORMAT:
        raise bad(f"'format' is {data.get('format')!r}, expected {_FORMAT!r}")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad(f"invalid 'version' {version!r}")
    if version > _VERSION:
        raise bad(f"version {version} was written by a newer ember (this one reads {_VERSION})")
    itos = data.get("itos")
    if not isinstance(itos, list) or not all(isinstance(t, str) for t in itos):
        raise bad("'itos' must be a list of strings")
    if len(set(itos)) != len(itos):
        dup = next(t for t, n in Counter(itos).items() if n > 1)
        raise bad(f"token {dup!r} appears twice in 'itos'")
    specials = data.get("specials", [])
    if not isinstance(specials, list) or not all(isinstance(t, str) for t in specials):
        raise bad("'specials' must be a list of strings")
    if not set(specials) <= set(itos):
        raise bad("a special token is missing from 'itos'")
    default_index = data.get("default_index")
    if default_index is not None and (
        not isinstance(default_index, int)
        or isinstance(default_index, bool)
        or not 0 <= default_index < len(itos)
    ):
        raise bad(f"'default_index' {default_index!r} is not an id of its {len(itos)} tokens")
    if tokenizer is None:
        name = data.get("tokenizer")
        if not isinstance(name, str):
            raise bad("'tokenizer' must be a tokenizer name")
        try:
            tokenizer = get_tokenizer(name)
        except ValueError as e:
            raise ValueError(
                f"{source}: {e}; pass tokenizer= to load a Vocab with a custom tokenizer"
            ) from None
    vocab = Vocab(itos, tokenizer=tokenizer, default_index=default_index)
    vocab._specials = tuple(specials)
    return vocab


def build_vocab_from_iterator(
    iterator,
    min_freq: int = 1,
    specials: Iterable[str] | None = None,
    special_first: bool = True,
    max_tokens: int | None = None,
    *,
    tokenizer: str | Tokenizer = "char",
) -> Vocab:
    """Count tokens and build a Vocab ordered by frequency, then by first appearance.

    Mirrors ``torchtext.vocab.build_vocab_from_iterator``, with a deterministic order that
    does not depend on the tokens' spelling (torchtext breaks ties alphabetically).

    Args:
        iterator: yields tokens (``str``) or lists of tokens, freely mixed; a single string
            passed as ``iterator`` is an iterable of characters. Note: a ``str`` item is one
            token (torchtext would count its characters).
        min_freq: keep tokens seen at least this often.
        specials: tokens added regardless of counts, first or last (see ``special_first``),
            in the order given; occurrences of them in the data are not counted.
        special_first: put the specials before (default) or after the counted tokens.
        max_tokens: cap on the vocabulary size, specials included; the most frequent
            tokens are kept.
        tokenizer: recorded in the Vocab for ``encode``/``decode`` (default ``"char"``). A
            tokenizer with a closed alphabet (``"byte"``) puts its whole alphabet in the
            Vocab, seen or not (unseen ones last, in alphabet order), so that every text
            can be encoded; ``min_freq`` and ``max_tokens`` never drop alphabet tokens.

    Raises:
        ValueError: ``min_freq < 1``; ``max_tokens`` not above the number of specials (or
            too small to hold a closed alphabet).
        TypeError: a token that is not a ``str``.
    """
    min_freq = _as_int(min_freq, "min_freq")
    if min_freq < 1:
        raise ValueError(f"min_freq must be at least 1, got {min_freq}")
    specials = list(specials or ())
    tok = get_tokenizer(tokenizer)
    counter: Counter = Counter()
    if isinstance(iterator, str):
        counter.update(iterator)
    else:
        for item in iterator:
            if isinstance(item, str):
                counter[item] += 1
            else:
                try:
                    counter.update(item)
                except TypeError:
                    raise TypeError(
                        "build_vocab_from_iterator expects tokens (str) or iterables of "
                        f"tokens, got {type(item).__name__}"
                    ) from None
    for token in specials:
        counter.pop(token, None)
    _check_tokens(counter, "token")

    alphabet = set(tok.alphabet or ()) - set(specials)
    if alphabet:
        for token in tok.alphabet:  # unseen alphabet tokens go last, in alphabet order
            if token in alphabet and token not in counter:
                counter[token] = 0
    # sorted() is stable and Counter keeps first-appearance order: ties keep that order.
    ordered = sorted(counter.items(), key=lambda kv: -kv[1])
    kept = [t for t, n in ordered if n >= min_freq or t in alphabet]

    if max_tokens is not None:
        max_tokens = _as_int(max_tokens, "max_tokens")
        room = max_tokens - len(specials)
        if room <= 0:
            raise ValueError(
                f"max_tokens ({max_tokens}) must be greater than the number of specials "
                f"({len(specials)})"
            )
        if alphabet:
            if room < len(alphabet):
                raise ValueError(
                    f"max_tokens ({max_tokens}) cannot hold the {len(alphabet)}-token "
                    f"alphabet of the {tok.name!r} tokenizer plus {len(specials)} specials"
                )
            # Keep every alphabet token and the most frequent others that still fit.
            extra = room - len(alphabet)
            others = [t for t in kept if t not in alphabet][:extra]
            keep = alphabet.union(others)
            kept = [t for t in kept if t in keep]
        else:
            kept = kept[:room]
    return Vocab(kept, specials=specials, special_first=special_first, tokenizer=tok)


def _as_int(value, what: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an integer, got bool")
    if isinstance(value, ember.Tensor):
        value = value.item()
    try:
        return int(value.__index__())
    except (AttributeError, TypeError):
        raise TypeError(f"{what} must be an integer, got {type(value).__name__}") from None


def _check_tokens(tokens, what: str) -> None:
    for t in tokens:
        if not isinstance(t, str):
            raise TypeError(f"every {what} must be a str, got {t!r} ({type(t).__name__})")


def _check_distinct(tokens: list, what: str) -> None:
    if len(set(tokens)) != len(tokens):
        dup = next(t for t, n in Counter(tokens).items() if n > 1)
        raise ValueError(f"{what} {dup!r} appears more than once")
