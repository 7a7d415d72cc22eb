"""Engines are plain Python: nothing under src/ismp/engines may import Django."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINES = Path(__file__).resolve().parents[2] / "src" / "ismp" / "engines"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_engine_imports_django_or_apps():
    files = sorted(ENGINES.rglob("*.py"))
    assert files, "no engine modules found"
    offenders = {
        str(path.relative_to(ENGINES)): sorted(
            m
            for m in imported_modules(path)
            if m.split(".")[0] in ("django", "rest_framework") or m.startswith("ismp.apps")
        )
        for path in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}
