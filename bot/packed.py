"""Number sequences by key, all in one array (the search indexes' postings and trigram lists).

One array per index instead of a list, dict or array per key: the pre-built content (bot/prebuilt.py) then loads
a few large blocks instead of thousands of small objects and the temporaries that come with them, which left
the heap fragmented at rest.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

N = TypeVar("N", int, float)


class Packed(Generic[N]):
    """Read-only: ``key in packed`` and ``packed.get(key)``, the key's numbers in their order (empty if none)."""

    __slots__ = ("_at", "_bounds", "_data")
    _at: dict[str, int]
    _bounds: array[int]
    _data: array[N]

    def __init__(self, code: str, sequences: Mapping[str, Iterable[N]]) -> None:
        self._at = {key: k for k, key in enumerate(sequences)}
        data: array[N] = array(code)  # "d" for float, "H" or "I" for int
        bounds = array("I", [0])
        for numbers in sequences.values():
            data.extend(numbers)
            bounds.append(len(data))
        self._data = data
        self._bounds = bounds

    def __contains__(self, key: object) -> bool:
        return key in self._at

    def __len__(self) -> int:
        return len(self._at)

    def get(self, key: str) -> array[N]:
        k = self._at.get(key)
        if k is None:
            return self._data[:0]
        return self._data[self._bounds[k] : self._bounds[k + 1]]
