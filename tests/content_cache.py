"""Content and search index parsed once per content folder for the whole test run.

Parsing content/ and building the search index took most of an in-process test's time. The cache is keyed by
the folder and every file's path, size and modification time, so a test that writes its own copy of content/
(or changes one file in it) still gets exactly what the bot would load from that folder. Content models are
frozen pydantic models; sharing them between tests is safe.
"""

from __future__ import annotations

from pathlib import Path

from bot.content import Content, load_content
from bot.search import SearchIndex

REPO_CONTENT = Path(__file__).resolve().parents[1] / "content"

Stamp = tuple[tuple[str, int, int], ...]
_content: dict[tuple[Path, Stamp], Content] = {}
_index: dict[tuple[Path, Stamp], SearchIndex] = {}


def content_key(root: Path) -> tuple[Path, Stamp]:
    """The folder and every file's path, size and modification time: equal keys, equal content."""
    root = root.resolve()
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            stat = path.stat()
            files.append((str(path.relative_to(root)), stat.st_size, stat.st_mtime_ns))
    return root, tuple(files)


def cached_content(root: Path = REPO_CONTENT) -> Content:
    """``load_content(root)``, parsed once per folder state (errors are raised every time, never cached)."""
    key = content_key(root)
    if key not in _content:
        _content[key] = load_content(root)
    return _content[key]


def cached_index(root: Path = REPO_CONTENT) -> SearchIndex:
    """``SearchIndex.build`` over ``cached_content(root)``, built once per folder state."""
    key = content_key(root)
    if key not in _index:
        _index[key] = SearchIndex.build(cached_content(root))
    return _index[key]


def cached_content_and_index(root: Path) -> tuple[Content, SearchIndex]:
    """The loader the in-process harness gives ``build_application``."""
    return cached_content(root), cached_index(root)
