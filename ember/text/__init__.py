"""Text tools from the notes: tokenizers, Vocab, TextDataset and a built-in corpus.

A maintained replacement for the parts of torchtext a language model needs::

    from ember.text import Vocab, TextDataset, builtin_corpus
    from ember.utils.data import DataLoader

    text = builtin_corpus().text
    vocab = Vocab.from_text(text, tokenizer="char")
    data = TextDataset(vocab.encode(text), seq_len=64)
    for x, y in DataLoader(data, batch_size=32, shuffle=True):
        ...  # x, y: (32, 64) int64; y is x shifted one token on
"""
from ember.text.corpus import STDLIB_MODULES, Corpus, CorpusSource, builtin_corpus
from ember.text.datasets import TextDataset
from ember.text.tokenizers import (
    BasicEnglishTokenizer,
    ByteTokenizer,
    CharTokenizer,
    Tokenizer,
    get_tokenizer,
    tokenizer_names,
)
from ember.text.vocab import Vocab, build_vocab_from_iterator

__all__ = [
    "Vocab",
    "build_vocab_from_iterator",
    "Tokenizer",
    "CharTokenizer",
    "BasicEnglishTokenizer",
    "ByteTokenizer",
    "get_tokenizer",
    "tokenizer_names",
    "TextDataset",
    "Corpus",
    "CorpusSource",
    "STDLIB_MODULES",
    "builtin_corpus",
]
