"""The one registry shape: refuses a duplicate name, lists what is registered, names the unknown."""

from __future__ import annotations

import pytest

from ismp.engines.registry import Registry
from ismp.errors import InputError


def test_registry_refuses_duplicates_and_names_unknown_entries():
    reg: Registry[str] = Registry("widget", "ismp.no_such_group", ())
    reg.register("a")("first")
    with pytest.raises(ValueError, match='widget "a" is already registered'):
        reg.register("a")("second")
    assert reg.names() == ["a"] and reg.get("a") == "first"
    with pytest.raises(InputError, match='unknown widget "b"; known: a'):
        reg.get("b")
