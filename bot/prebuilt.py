"""The parsed content with its search and passage indexes, kept between starts in the data folder.

Parsing content/ and building both indexes took about 1 s of every start, and the parse's intermediate objects
left about 6 MB of heap behind. A start whose content and code are unchanged reads one file instead.

The file is keyed by a hash of every file under the content folder, of the bot package's source and of the
versions of Python and of the libraries whose objects it holds: any change to one of them builds afresh and
replaces the file. A file that cannot be read or does not fit is ignored (and replaced); one that cannot be
written costs only the time saved.

An installation can ship the file beside the content folder (the Docker image builds it, ``write_shipped``):
then the first start after a deployment reads it too.

Safety: pickle runs code named in the file, so the file is read only from the operator's data folder (next to
the database), where the bot writes it itself (mode 0600), or from beside the content folder, where only the
installation puts it; and only if the bot's own user or root owns it and nobody else can write to it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import stat
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, BinaryIO, cast

import pydantic
from pydantic import BaseModel

from bot.answers import Answerer
from bot.content import Content, load_content
from bot.search import SearchIndex

log = logging.getLogger(__name__)

FILE_NAME = "content-prebuilt.pickle"
_FORMAT = b"ija-lotse prebuilt content 3\n"
_PACKAGE = Path(__file__).resolve().parent
_CHILD_TIMEOUT = 120  # seconds; a build takes 1-3 s


@dataclass(frozen=True, slots=True)
class Loaded:
    content: Content
    search: SearchIndex
    answers: Answerer


def fingerprint(content_dir: Path) -> bytes:
    """A hash over what the built objects depend on: the content files, the bot's source, the versions."""
    digest = hashlib.sha256(_FORMAT)
    digest.update(f"{sys.version}|{pydantic.VERSION}|{version('PyYAML')}".encode())
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


def load(content_dir: Path, data_dir: Path, *, in_child: bool = True) -> Loaded:
    """The content and its indexes: from ``data_dir``'s file if it fits, else built and the file written.

    ``in_child``: build in a child process and read the file it writes. Parsing and indexing leave about 10 MB
    of fragmented heap behind that a process cannot give back; the child takes it with it, so the bot at rest
    is as small after a content change as after any other start. If the child fails (invalid content, a data
    folder it cannot write), the build runs here, and raises what is wrong with the content.
    """
    path = data_dir / FILE_NAME
    early = _take_early(content_dir, data_dir)
    key = early.key if early is not None else fingerprint(content_dir)
    child = early.process if early is not None else None
    loaded = _read(path, key) or _read(content_dir.parent / FILE_NAME, key)
    if loaded is None and in_child:
        if _child_built(content_dir, data_dir, child):
            loaded = _read(path, key)
    elif child is not None:
        _stop(child)  # a file fits after all, or the build runs here: not waited for
    if loaded is None:
        loaded = build(content_dir)
        _write(path, key, loaded)
    return loaded


def write_file(content_dir: str, data_dir: str) -> int:
    """Build and write the file (the child process of ``load``); 0 if it was written."""
    content, data = Path(content_dir), Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)  # an early child of a first start comes before the database does
    return 0 if _write(data / FILE_NAME, fingerprint(content), build(content)) else 1


def write_shipped(content_dir: Path) -> None:
    """Build the file beside ``content_dir``, readable by all, for an installation to ship (Dockerfile)."""
    if not _write(content_dir.parent / FILE_NAME, fingerprint(content_dir), build(content_dir), mode=0o644):
        raise OSError(f"{content_dir.parent / FILE_NAME}: not written")


def ensure_shipped(content_dir: Path) -> bool:
    """Write the shipped file beside ``content_dir`` unless one fitting the content and code is there already;
    True if it was (re)written. The test session calls this once, so the bot and command-line processes its
    tests start read the content instead of each building it."""
    if _header_fits(content_dir.parent / FILE_NAME, fingerprint(content_dir)):
        return False
    write_shipped(content_dir)
    return True


@dataclass(frozen=True, slots=True)
class _Early:
    content_dir: Path
    data_dir: Path
    key: bytes  # the fingerprint, which ``load`` need not compute again
    process: subprocess.Popen[bytes] | None  # the child building the file; None if a file fitted


_early: _Early | None = None  # what ``start_early`` found or started, until ``load`` takes it


def start_early(content_dir: Path, data_dir: Path) -> bool:
    """Start the child process that builds the file now, if neither file fits; True if one was started.

    ``python -m bot run`` calls this before python-telegram-bot and the bot's modules load, so the build (about
    1.3 s) runs beside the rest of the start instead of after it; ``load`` then waits for this child instead of
    starting one.
    """
    global _early
    key = fingerprint(content_dir)
    fits = _header_fits(data_dir / FILE_NAME, key) or _header_fits(content_dir.parent / FILE_NAME, key)
    child = None if fits else _spawn_child(content_dir, data_dir)
    _early = _Early(content_dir, data_dir, key, child)
    return child is not None


def _take_early(content_dir: Path, data_dir: Path) -> _Early | None:
    """What ``start_early`` found or started for these folders; a child it started for others is stopped."""
    global _early
    early, _early = _early, None
    if early is None or (early.content_dir, early.data_dir) == (content_dir, data_dir):
        return early
    if early.process is not None:
        _stop(early.process)  # built for other folders: not worth waiting for
    return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.communicate()


def _header_fits(path: Path, key: bytes) -> bool:
    try:
        with path.open("rb") as file:
            return file.readline() == key
    except OSError:
        return False


def _spawn_child(content_dir: Path, data_dir: Path) -> subprocess.Popen[bytes] | None:
    command = (
        "import sys; from bot.prebuilt import write_file; sys.exit(write_file(sys.argv[1], sys.argv[2]))"
    )
    try:
        return subprocess.Popen(
            [sys.executable, "-c", command, str(content_dir), str(data_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        log.info("building the content in a child process failed (%s); building here", exc)
        return None


def _child_built(content_dir: Path, data_dir: Path, child: subprocess.Popen[bytes] | None) -> bool:
    """Build the file in a child process (``child``, the one ``start_early`` started, else a new one) and wait for
    it; True if it wrote the file."""
    child = child or _spawn_child(content_dir, data_dir)
    if child is None:
        return False
    try:
        _, errors = child.communicate(timeout=_CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        _stop(child)
        log.info("building the content in a child process took over %s s; building here", _CHILD_TIMEOUT)
        return False
    if child.returncode != 0:
        last = errors.decode(errors="replace").strip().splitlines()[-1:] or [""]
        log.info(
            "building the content in a child process failed (exit %s: %s); building here",
            child.returncode,
            last[0],
        )
    return child.returncode == 0


def _read(path: Path, key: bytes) -> Loaded | None:
    try:
        with path.open("rb") as file:
            info = os.fstat(file.fileno())
            if info.st_uid not in (os.getuid(), 0) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                log.warning("%s: neither the bot's own nor root's, or writable by others; ignored", path)
                return None
            if file.readline() != key:
                return None  # content or code changed: build afresh
            loaded = _Unpickler(file).load()
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged or outdated file is built afresh, never fatal
        log.warning("%s: could not be read (%s); building the content afresh", path, type(exc).__name__)
        return None
    return loaded if isinstance(loaded, Loaded) else None


def _write(path: Path, key: bytes, loaded: Loaded, mode: int = 0o600) -> bool:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        data = io.BytesIO()
        _Pickler(data).dump(loaded)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(descriptor, "wb") as file:
            file.write(key)
            file.write(data.getbuffer())
        os.replace(temporary, path)
    except Exception as exc:  # a read-only data folder only costs the next start its time
        log.info("%s: not written (%s)", path, exc)
        temporary.unlink(missing_ok=True)
        return False
    return True


def _plain(obj: object) -> bool:
    """Whether ``obj`` equals another object only if both have the same types all through: a str, an int (not
    a bool), or a tuple or frozenset of such. (1.0 == 1 and 0.0 == -0.0, so floats inside do not count.)"""
    kind = type(obj)
    if kind is str or kind is int:
        return True
    if kind is tuple or kind is frozenset:
        return all(_plain(item) for item in cast(Iterable[object], obj))
    return False


@dataclass(frozen=True, slots=True)
class _FieldsSet:
    """In the file: the names a frozen content model was given (pydantic's ``__pydantic_fields_set__``)."""

    names: frozenset[str]


class _Pickler(pickle.Pickler):
    """Writes equal values once, so ``_Unpickler`` loads one shared object per value: the built indexes hold
    about 20,000 equal strings, 45,000 numbers and 0.9 MB of equal tuples and sets as separate objects
    (tokenised apart, one per posting, once per index), about 4 MB that a plain pickle would load again.

    Strings, and tuples and frozensets of strings and ints, are replaced by the first equal one (pickle's memo
    then writes a reference to it); numbers, which pickle always writes out, are shared by ``_Unpickler``."""

    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._first: dict[object, object] = {}  # str and int never equal each other, nor do plain tuples
        self._fields_sets: set[int] = set()

    def reducer_override(self, obj: object) -> Any:  # NotImplemented: pickle as usual
        # A frozen model's set of given field names never changes (pydantic's copies take their own), and 1,100
        # models share 66 such sets: loaded as one set per value, 0.4 MB less.
        if isinstance(obj, BaseModel) and obj.model_config.get("frozen"):
            self._fields_sets.add(id(obj.__pydantic_fields_set__))
        return NotImplemented

    def persistent_id(self, obj: object) -> object | None:
        if type(obj) is set and id(obj) in self._fields_sets:
            return _FieldsSet(frozenset(cast(set[str], obj)))
        kind = type(obj)  # exact types: str subclasses (Html) and bools stay as they are
        if kind is float or (kind is int and not -5 <= cast(int, obj) <= 256):
            return obj
        if kind is str or ((kind is tuple or kind is frozenset) and obj and _plain(obj)):
            return self._first.setdefault(obj, obj)
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file)
        self._ints: dict[int, int] = {}
        self._floats: dict[float, float] = {}
        self._names: dict[frozenset[str], set[str]] = {}

    def persistent_load(self, pid: object) -> object:
        kind = type(pid)
        if kind is float:  # 0.0 and -0.0 are equal yet differ, NaN equals nothing: those stay apart
            value = cast(float, pid)
            return self._floats.setdefault(value, value) if value and value == value else value
        if kind is int:
            return self._ints.setdefault(cast(int, pid), cast(int, pid))
        if kind is str or kind is tuple or kind is frozenset:
            return pid  # already one object per value (see _Pickler)
        if kind is _FieldsSet:
            names = cast(_FieldsSet, pid).names
            return self._names.setdefault(names, set(names))
        raise pickle.UnpicklingError(f"unexpected reference {kind.__name__}")
