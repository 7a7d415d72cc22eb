"""Typed access to parsed JSON: values of the wrong JSON type raise InputError naming record and field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ismp.engines.feeds.jvn.common import Place, parse_datetime

JsonObject = dict[str, object]


@dataclass(frozen=True, slots=True)
class Where(Place):
    """A Place that reads JSON values, raising InputError naming record and field on a wrong type."""

    def obj(self, value: object, field: str) -> JsonObject:
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        raise self.error(field, f"must be a JSON object, not {kind_of(value)}")

    def arr(self, value: object, field: str) -> list[object]:
        if value is None:
            return []
        if isinstance(value, list):
            return value
        raise self.error(field, f"must be a JSON list, not {kind_of(value)}")

    def objs(self, value: object, field: str) -> list[tuple[str, JsonObject]]:
        """A list of objects, each with its field path (``references[2]``)."""
        return [(f"{field}[{i}]", self.obj(item, f"{field}[{i}]")) for i, item in enumerate(self.arr(value, field))]

    def text(self, value: object, field: str) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise self.error(field, f"must be a string, not {kind_of(value)}")

    def date(self, value: object, field: str) -> dt.datetime | None:
        return parse_datetime(self.text(value, field), self, field)


def kind_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else "a number"
