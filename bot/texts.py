"""The UI texts catalogue (content/texts/*.yaml), addressed by dotted key."""

from __future__ import annotations

import string
from collections.abc import Mapping

from bot.telegram_html import Html, escape


class Texts:
    """The UI texts catalogue, addressed by dotted key; placeholders are filled with escaped values.

    Keys under a ``buttons`` map are plain-text button labels: their placeholders are not escaped.
    """

    def __init__(self, entries: Mapping[str, str]) -> None:
        self._entries = dict(entries)

    def __call__(self, key: str, /, **params: object) -> str:
        template = self._entries[key]
        if not params:
            return template
        if ".buttons." in key:  # button labels are plain text: Telegram shows them verbatim
            return template.format_map({k: str(v) for k, v in params.items()})
        safe = {k: v if isinstance(v, Html) else escape(v) for k, v in params.items()}
        return template.format_map(safe)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def all_keys(self) -> list[str]:
        return sorted(self._entries)

    def placeholders(self, key: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self._entries[key]) if name}
