"""Every text key the code uses exists in content/, and every key in content/ is used somewhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.content_cache import cached_content

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
FILE_NAME = re.compile(r"\.(yaml|sqlite3|sql|md|ics|docx|json|py|txt|csv)$")


def _literals() -> tuple[set[str], set[str]]:
    """String literals in bot/ and handlers/, and the constant prefixes of f-strings (dynamic keys)."""
    literals: set[str] = set()
    prefixes: set[str] = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str) and "." in first.value:
                    prefixes.add(first.value)
    return literals, prefixes


def test_text_keys_used_in_code_exist_and_all_are_used() -> None:
    texts = cached_content().texts
    keys = set(texts.all_keys())
    namespaces = {k.split(".")[0] for k in keys}
    literals, prefixes = _literals()
    used = {s for s in literals if KEY.match(s) and not FILE_NAME.search(s) and s.split(".")[0] in namespaces}
    missing = sorted(used - keys)
    assert not missing, f"text keys used in code but missing in content/texts: {missing}"
    unused = sorted(k for k in keys if k not in used and not any(k.startswith(p) for p in prefixes))
    assert not unused, f"text keys nobody uses: {unused}"
