"""Which systems hold which components: the inverse of the inventory that an incremental run needs.

After a feed delta, the vulnerabilities that changed name a few products; the systems that hold them are
most of a large estate, but the components concerned are a small share of each. :class:`Holdings` keeps
every system's components as the engine's records (one record per distinct identity, shared by the
systems that have it) and files each record under its *labels* (the product it is matched under, the names
affected[] statements may use: the caller decides), so that a run reads the records of a few labels and
the systems holding them, not a million database rows.

It is a copy of the inventory: whoever keeps it must replace a system's components whenever they may have
changed (``replace``) and compare ``rows`` and ``last`` with the database before trusting it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping

from ismp.engines.inventory.records import ComponentRecord

Row = tuple[int, str, ComponentRecord]  # (primary key, the component's stored key, its record)


class Holdings:
    """Every system's components, and for each record its holders and labels; see the module's docstring."""

    def __init__(self, labels: Callable[[ComponentRecord], Collection[Hashable]]) -> None:
        self._label = labels
        self._systems: dict[int, dict[str, tuple[int, ComponentRecord]]] = {}  # system → key → (pk, record)
        self._holders: dict[ComponentRecord, dict[int, str]] = {}  # record → system → key
        self._labels: dict[ComponentRecord, Collection[Hashable]] = {}
        self._filed: dict[Hashable, set[ComponentRecord]] = defaultdict(set)
        self.rows = 0  # components held, and the highest primary key seen: compared with the database
        self.last = 0

    def __len__(self) -> int:
        return len(self._systems)

    def replace(self, system: int, rows: Iterable[Row]) -> None:
        """The system's components are now these (none: it has none)."""
        for _pk, record in self._systems.pop(system, {}).values():
            self._release(system, record)
        held: dict[str, tuple[int, ComponentRecord]] = {}
        for pk, key, record in rows:
            held[key] = (pk, record)
            self.last = max(self.last, pk)
        for key, (_pk, record) in held.items():
            holders = self._holders.get(record)
            if holders is None:
                holders = self._holders[record] = {}
                labels = self._labels[record] = self._label(record)
                for label in labels:
                    self._filed[label].add(record)
            holders[system] = key
        self._systems[system] = held
        self.rows += len(held)

    def labelled(self, labels: Iterable[Hashable]) -> set[ComponentRecord]:
        """The records filed under any of these labels."""
        found: set[ComponentRecord] = set()
        for label in labels:
            found |= self._filed.get(label, set())
        return found

    def records(self) -> Collection[ComponentRecord]:
        """Every record held by some system."""
        return self._holders.keys()

    def labels(self, record: ComponentRecord) -> Collection[Hashable]:
        return self._labels.get(record, ())

    def holders(self, record: ComponentRecord) -> Mapping[int, str]:
        """The systems holding the record, each with its component's stored key."""
        return self._holders.get(record, {})

    def pk(self, system: int, key: str) -> int | None:
        """The primary key of the system's component stored under ``key``, if it has one."""
        held = self._systems.get(system, {}).get(key)
        return None if held is None else held[0]

    def _release(self, system: int, record: ComponentRecord) -> None:
        self.rows -= 1
        holders = self._holders[record]
        holders.pop(system, None)
        if not holders:
            del self._holders[record]
            for label in self._labels.pop(record):
                self._filed[label].discard(record)
