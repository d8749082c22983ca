"""Errors a user reads about: each names the text (content/texts) that explains it and the values that fill it."""

from __future__ import annotations


class KeyedError(Exception):
    """Input that does not pass; ``key`` names the text that explains why, ``params`` fill it."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
