"""YAML parsing for the content loader. PyYAML (0.9 MB resident) is imported when content is first parsed: a
start from the pre-built content (bot.prebuilt) never parses."""

from __future__ import annotations

from typing import Any


class YamlError(ValueError):
    """Text that is not valid YAML; the message is PyYAML's."""


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load`` with the C parser when libyaml is installed."""
    import yaml  # here, not at the top: memory at rest (see the module docstring)

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise YamlError(str(exc)) from exc
