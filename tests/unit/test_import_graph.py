"""The modules of bot/ and handlers/ import each other without cycles, counting imports inside functions too
(an import moved into a function hides a cycle from Python, not from a reader)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers")

# No import cycle is left; a new one fails the test. (The list stays so a cycle that must be accepted for a
# while is named here, not hidden.)
KNOWN_CYCLES: list[list[str]] = []


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of ours that ``name`` imports anywhere, except under ``if TYPE_CHECKING`` (never at run time)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # "from bot import outbox"
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {module for module in found if module in known and module != name}


def import_cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted, sorted."""
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(cycles)


def test_no_new_import_cycle() -> None:
    assert import_cycles() == KNOWN_CYCLES


def test_the_walk_finds_a_cycle(tmp_path: Path) -> None:
    """The detector itself: two modules importing each other inside functions form a cycle."""
    a = ast.parse("def f():\n    from bot import b\n")
    b = ast.parse("def g():\n    import bot.a\n")
    (tmp_path / "a.py").write_text(ast.unparse(a), encoding="utf-8")
    (tmp_path / "b.py").write_text(ast.unparse(b), encoding="utf-8")
    known = {"bot.a", "bot.b"}
    assert _imports("bot.a", tmp_path / "a.py", known) == {"bot.b"}
    assert _imports("bot.b", tmp_path / "b.py", known) == {"bot.a"}


HEAVY = ("docx", "lxml", "icalendar", "yaml")  # python-docx (with lxml), the .ics builder, the content loader


def test_heavy_libraries_load_when_first_needed_not_at_start() -> None:
    """Start-up time and memory at rest: the bot with every handler imported has loaded none of them yet (the
    DOCX plan, an .ics file and reading the YAML sources import them on first use)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "import bot.cli, bot.app, bot.prebuilt, handlers\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == [], done.stdout
