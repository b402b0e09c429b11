"""The package's layout is its data flow: base → ingest / textmatch → findings → tables → outputs → cli.

Every import (module level or inside a function) must point down this order or stay inside its own
subpackage; ingest and textmatch are peers that do not know each other; no module imports another
module's private (``_name``) objects; and the import graph has no cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cs_analytics"
LAYERS = {"base": 0, "ingest": 1, "textmatch": 1, "findings": 2, "tables": 3, "outputs": 4}
TOP = 5          # cs_analytics/__init__.py and cli.py: the public API and the command line


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> tuple[int, str]:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS[parts[1]], parts[1]
    return TOP, "top"


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names) of every import of the package in ``path``."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("cs_analytics"):
                continue
            names = [a.name for a in node.names]
            # ``from .x import module``: the imported names may be modules themselves
            for name in names:
                candidate = f"{target}.{name}"
                if (PACKAGE.parent / (candidate.replace(".", "/") + ".py")).exists() or \
                        (PACKAGE.parent / candidate.replace(".", "/")).is_dir():
                    found.append((node.lineno, candidate, []))
                else:
                    found.append((node.lineno, target, [name]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names if a.name.startswith("cs_analytics")]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        me = _module_name(path)
        graph.setdefault(me, set())
        for _, target, _ in _imports(path):
            if target != me:
                graph[me].add(target)
    return graph


def test_every_subpackage_is_a_known_layer():
    folders = {p.parent.name for p in MODULES if p.parent != PACKAGE}
    assert folders <= set(LAYERS), f"a folder without a layer: {sorted(folders - set(LAYERS))}; add it to LAYERS"


def _problems(me: str, imports) -> list[str]:
    """What is wrong with module ``me`` importing ``imports`` ((line, module, names) triples)."""
    my_layer, my_group = _layer(me)
    wrong = []
    for line, target, names in imports:
        layer, group = _layer(target)
        if target == "cs_analytics" and my_layer < TOP:
            wrong.append(f"line {line}: imports the package top ({names}); import from the module that defines it")
        elif layer > my_layer or (layer == my_layer and group != my_group and my_layer < TOP):
            wrong.append(f"line {line}: {me} ({my_group}) imports {target} ({group}), which is not downstream")
        private = [n for n in names if n.startswith("_")]
        if private and target != me:
            wrong.append(f"line {line}: imports private {private} from {target}; make it public or move it")
    return wrong


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (as a path that returns to its start), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if not state.get(nxt):
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if not state.get(node):
            found = visit(node)
            if found:
                return found
    return None


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_downstream(path):
    wrong = _problems(_module_name(path), _imports(path))
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_the_checks_see_what_they_forbid():
    """The checks themselves: an upward import, a peer import, a private name and a cycle are reported."""
    assert _problems("cs_analytics.base.schema", [(3, "cs_analytics.findings.violations", ["find_violations"])])
    assert _problems("cs_analytics.ingest.load", [(3, "cs_analytics.textmatch.normalize", ["normalize"])])
    assert _problems("cs_analytics.findings.complaints", [(3, "cs_analytics.textmatch.engines", ["_drop_nested"])])
    assert _problems("cs_analytics.tables.overview", [(3, "cs_analytics", ["load_logs"])])
    assert not _problems("cs_analytics.findings.complaints", [(3, "cs_analytics.textmatch.engines", ["PhraseSet"]),
                                                              (4, "cs_analytics.base.schema", ["conform"])])
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
