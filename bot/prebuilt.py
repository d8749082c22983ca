"""The parsed content with its search and passage indexes, kept between starts in the data folder.

Parsing content/ and building both indexes took about 1 s of every start, and the parse's intermediate objects
left about 6 MB of heap behind. A start whose content and code are unchanged reads one file instead.

The file is keyed by a hash of every file under the content folder, of the bot package's source and of the
versions of Python and of the libraries whose objects it holds: any change to one of them builds afresh and
replaces the file. A file that cannot be read or does not fit is ignored (and replaced); one that cannot be
written costs only the time saved.

Safety: pickle runs code named in the file, so the file is read only from the operator's data folder (next to
the database), only if the bot's own user owns it and nobody else can write to it; the bot writes it there
itself, mode 0600.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import pydantic
import yaml

from bot.answers import Answerer
from bot.content import Content, load_content
from bot.search import SearchIndex

log = logging.getLogger(__name__)

FILE_NAME = "content-prebuilt.pickle"
_FORMAT = b"ija-lotse prebuilt content 1\n"
_PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Loaded:
    content: Content
    search: SearchIndex
    answers: Answerer


def fingerprint(content_dir: Path) -> bytes:
    """A hash over what the built objects depend on: the content files, the bot's source, the versions."""
    digest = hashlib.sha256(_FORMAT)
    digest.update(f"{sys.version}|{pydantic.VERSION}|{yaml.__version__}".encode())
    for root, pattern in ((content_dir, "*"), (_PACKAGE, "*.py")):
        for path in sorted(p for p in root.rglob(pattern) if p.is_file()):
            digest.update(f"\0{path.relative_to(root)}\0{path.stat().st_size}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest().encode() + b"\n"


def build(content_dir: Path) -> Loaded:
    """Parse the content and build both indexes (what a start without a fitting file does)."""
    content = load_content(content_dir)
    search = SearchIndex.build(content)
    return Loaded(content, search, Answerer.build(content, search))


def load(content_dir: Path, data_dir: Path) -> Loaded:
    """The content and its indexes: from ``data_dir``'s file if it fits, else built (and the file written)."""
    path = data_dir / FILE_NAME
    key = fingerprint(content_dir)
    loaded = _read(path, key)
    if loaded is None:
        loaded = build(content_dir)
        _write(path, key, loaded)
    return loaded


def _read(path: Path, key: bytes) -> Loaded | None:
    try:
        with path.open("rb") as file:
            info = os.fstat(file.fileno())
            if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                log.warning("%s: not the bot's own or writable by others; ignored", path)
                return None
            if file.readline() != key:
                return None  # content or code changed: build afresh
            loaded = pickle.load(file)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged or outdated file is built afresh, never fatal
        log.warning("%s: could not be read (%s); building the content afresh", path, type(exc).__name__)
        return None
    return loaded if isinstance(loaded, Loaded) else None


def _write(path: Path, key: bytes, loaded: Loaded) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        data = pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(key)
            file.write(data)
        os.replace(temporary, path)
    except Exception as exc:  # a read-only data folder only costs the next start its time
        log.info("%s: not written (%s)", path, exc)
        temporary.unlink(missing_ok=True)
