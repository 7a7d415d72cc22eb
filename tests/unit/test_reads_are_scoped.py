"""Views and API modules read inventory and audit data only through the scoped queries
(``systems_for``, ``components_for``, ``audit_entries_for``): a direct ``System.objects`` there would
bypass the role scoping, so this test refuses it (``.none()`` aside)."""

from __future__ import annotations

import ast
from pathlib import Path

APPS = Path(__file__).resolve().parents[2] / "src" / "ismp" / "apps"
SCOPED_MODELS = {"System", "Component", "AuditEntry"}
SURFACES = ("views.py", "api.py", "forms.py")


def is_manager(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "objects"
        and isinstance(node.value, ast.Name)
        and node.value.id in SCOPED_MODELS
    )


def unscoped_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    empty = {
        id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "none" and is_manager(n.value)
    }
    return [f"{path.relative_to(APPS)}:{n.lineno}" for n in ast.walk(tree) if is_manager(n) and id(n) not in empty]


def test_surfaces_read_only_through_scoped_queries():
    files = [p for name in SURFACES for p in APPS.glob(f"*/{name}")]
    assert files
    assert [use for path in files for use in unscoped_uses(path)] == []
