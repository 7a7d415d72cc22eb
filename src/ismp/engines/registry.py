"""One registry shape for every pluggable part (inventory formats, feed adapters, later scan parsers).

A registry maps names to implementations. Built-in modules register themselves on import with the
``register`` decorator, which refuses a name already taken; third parties add theirs through an
entry-point group, whose entry points name modules that register on import. Both are loaded once, the
first time the registry is read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from ismp.errors import InputError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, entry_point_group: str, builtin_modules: tuple[str, ...]) -> None:
        self.kind = kind  # what a person calls an entry, e.g. "inventory format"
        self.entry_point_group = entry_point_group
        self.builtin_modules = builtin_modules
        self._entries: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Register under ``name``; a name can be registered once only (ValueError otherwise)."""

        def decorator(entry: T) -> T:
            existing = self._entries.get(name)
            if existing is not None:
                owner = f"{getattr(existing, '__module__', '?')}.{getattr(existing, '__qualname__', repr(existing))}"
                raise ValueError(f'{self.kind} "{name}" is already registered by {owner}')
            self._entries[name] = entry
            return entry

        return decorator

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        self._load()
        return sorted(self._entries)

    def get(self, name: str) -> T:
        """The entry registered under ``name``; InputError (field "format") when there is none."""
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            raise InputError(
                f'unknown {self.kind} "{name}"; known: {", ".join(sorted(self._entries))}', field="format"
            ) from None

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in self.builtin_modules:
            importlib.import_module(module)
        for entry_point in entry_points(group=self.entry_point_group):
            entry_point.load()
