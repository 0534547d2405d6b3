"""The built-in corpus: Python standard-library source, read at run time, so training
needs no download.

``builtin_corpus()`` reads the source of the modules in :data:`STDLIB_MODULES` through
``importlib`` (without importing them) and reports its size and origin. Where a Python
installation ships no ``.py`` sources, it falls back to ember's own source, which is
always installed.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass

__all__ = ["STDLIB_MODULES", "Corpus", "CorpusSource", "builtin_corpus"]

# Top-level pure-Python modules present in CPython 3.10 to 3.14, mostly prose-rich
# (docstrings, comments); about 1.4 MB of text on CPython 3.11. Plain modules only:
# a dotted name would import its parent package.
STDLIB_MODULES: tuple[str, ...] = (
    "argparse",
    "calendar",
    "configparser",
    "contextlib",
    "dataclasses",
    "difflib",
    "enum",
    "fractions",
    "functools",
    "heapq",
    "inspect",
    "ipaddress",
    "optparse",
    "pprint",
    "queue",
    "random",
    "shlex",
    "shutil",
    "statistics",
    "string",
    "subprocess",
    "tempfile",
    "textwrap",
    "threading",
    "tokenize",
    "traceback",
    "typing",
    "weakref",
)


@dataclass(frozen=True)
class CorpusSource:
    """One file of the corpus: its module (or package-relative) name, path and length."""

    name: str
    path: str
    num_chars: int


@dataclass(frozen=True)
class Corpus:
    """Text plus where it came from.

    Attributes:
        text: the corpus, files joined by a blank line, ``\\n`` line endings.
        origin: ``"stdlib"`` or ``"ember"`` (the fallback).
        sources: the files read, in order.
        missing: requested modules whose source could not be found.
    """

    text: str
    origin: str
    sources: tuple[CorpusSource, ...]
    missing: tuple[str, ...] = ()

    @property
    def num_chars(self) -> int:
        """Length of :attr:`text` in characters."""
        return len(self.text)

    @property
    def num_bytes(self) -> int:
        """Length of :attr:`text` in UTF-8 bytes."""
        return len(self.text.encode("utf-8", "surrogatepass"))

    @property
    def description(self) -> str:
        """One line for a user: size and origin, e.g. ``"1,437,120 characters (1.4 MB)
        of Python 3.11.7 standard-library source: 28 modules (argparse, ...) from
        /usr/lib/python3.11"``."""
        size = f"{self.num_chars:,} characters ({self.num_bytes / 1e6:.1f} MB)"
        names = [s.name for s in self.sources]
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        folder = _common_folder([s.path for s in self.sources])
        if self.origin == "stdlib":
            version = ".".join(map(str, sys.version_info[:3]))
            what = f"Python {version} standard-library source: {len(names)} modules ({shown})"
        else:
            what = f"ember's own source: {len(names)} files ({shown})"
        line = f"{size} of {what} from {folder}"
        if self.missing:
            line += f"; not found: {', '.join(self.missing)}"
        return line

    def __str__(self) -> str:
        return self.description


def _common_folder(paths: list[str]) -> str:
    if not paths:
        return "nowhere"
    try:
        return os.path.commonpath([os.path.dirname(p) for p in paths])
    except ValueError:  # different drives on Windows
        return os.path.dirname(paths[0])


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _module_source(name: str) -> tuple[str, str] | None:
    """``(path, source)`` of a top-level module, without importing it; None if absent."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.loader is None or not hasattr(spec.loader, "get_source"):
        return None
    try:
        source = spec.loader.get_source(name)
    except (ImportError, OSError, UnicodeDecodeError):
        return None
    if not source:
        return None
    return spec.origin or name, source


def _ember_sources() -> list[tuple[str, str, str]]:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../ember
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        dirs[:] = [d for d in dirs if not d.startswith((".", "__pycache__"))]
        for fname in sorted(files):
            if fname.endswith(".py"):
                path = os.path.join(folder, fname)
                with open(path, encoding="utf-8") as f:
                    found.append((os.path.relpath(path, os.path.dirname(root)), path, f.read()))
    return found


def builtin_corpus(
    modules: tuple[str, ...] | list[str] | None = None, max_chars: int | None = None
) -> Corpus:
    """Read the built-in corpus: the source of the standard-library ``modules``.

    Args:
        modules: top-level module names, read in this order; default
            :data:`STDLIB_MODULES`. Modules without source are skipped (and listed in
            ``missing``); if none has source, ember's own source is used instead.
        max_chars: keep only the first ``max_chars`` characters (for quick runs).

    Returns:
        A :class:`Corpus`; ``corpus.text`` is the text and ``corpus.description`` says how
        big it is and where it came from.

    Raises:
        ValueError: ``max_chars`` below 1.
        RuntimeError: no source at all could be found (not even ember's).
    """
    if max_chars is not None and max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    names = STDLIB_MODULES if modules is None else tuple(modules)
    parts: list[str] = []
    sources: list[CorpusSource] = []
    missing: list[str] = []
    for name in names:
        found = _module_source(name)
        if found is None:
            missing.append(name)
            continue
        path, source = found
        source = _normalise(source).rstrip("\n")
        parts.append(source)
        sources.append(CorpusSource(name, path, len(source)))
    origin = "stdlib"
    if not parts:
        origin = "ember"
        for name, path, source in _ember_sources():
            source = _normalise(source).rstrip("\n")
            if not source:
                continue
            parts.append(source)
            sources.append(CorpusSource(name, path, len(source)))
    if not parts:
        raise RuntimeError(
            "no built-in corpus: neither the standard library's nor ember's source "
            "files could be read; train on a text file of your own instead"
        )
    text = "\n\n".join(parts) + "\n"
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars]
        # keep only the files that contributed, the last one cut short
        start, used = 0, []
        for part, src in zip(parts, sources):
            if start >= max_chars:
                break
            n = min(len(part), max_chars - start)
            used.append(CorpusSource(src.name, src.path, n))
            start += len(part) + 2
        sources = used
    return Corpus(text=text, origin=origin, sources=tuple(sources), missing=tuple(missing))
