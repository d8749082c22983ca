"""``python -m bench``: run every ``bench/bench_*.py`` module and print one aligned table.

Each module exposes ``run() -> list[dict[str, str]]``; a row has at least the keys ``benchmark``, ``metric``,
``value`` and ``target`` (extra keys become extra columns). The exit code is non-zero if a module fails to import
or run, or returns rows without the required keys.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path

REQUIRED = ("benchmark", "metric", "value", "target")


def discover() -> list[str]:
    """The importable names of the benchmark modules, in file-name order."""
    here = Path(__file__).resolve().parent
    return [f"{__package__ or 'bench'}.{path.stem}" for path in sorted(here.glob("bench_*.py"))]


def render(rows: list[dict[str, str]]) -> str:
    """Rows as an aligned plain-text table; the required columns first, then any extra ones."""
    columns = list(REQUIRED)
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    cells = [columns, *[[str(row.get(col, "")) for col in columns] for row in rows]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> int:
    rows: list[dict[str, str]] = []
    failed: list[str] = []
    modules = discover()
    if not modules:
        print("no bench/bench_*.py modules found", file=sys.stderr)
        return 1
    for name in modules:
        try:
            result = importlib.import_module(name).run()
            bad = [row for row in result if any(key not in row for key in REQUIRED)]
            if bad:
                raise ValueError(f"rows without {', '.join(REQUIRED)}: {bad[:2]}")
            rows.extend(result)
        except Exception:
            failed.append(name)
            print(f"benchmark {name} failed:\n{traceback.format_exc()}", file=sys.stderr)
    if rows:
        print(render(rows))
    if failed:
        print(f"{len(failed)} benchmark module(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
