"""Vendor/product aliases and the NVD product dictionary, as the rest of ISMP uses them.

* :func:`load_alias_table` — the built-in table (``ismp/engines/matching/aliases.csv``) followed by the
  CSIRT's own :class:`ProductAlias` rows, which win over built-in entries with the same names.
* :func:`product_dictionary` — the distinct NVD (vendor, product) pairs of :class:`AffectedProductIndex`,
  weighted by how many vulnerabilities name them: what CPE suggestions choose from.
* :func:`add_alias` / :func:`delete_alias` — the CSIRT's use cases, one transaction each, audited.

Both look-ups are cached per process and rebuilt when a cheap signature of their rows changes (count and
highest id), so a change made in one process is seen by every other one on its next call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Count, Max

from ismp.apps.accounts.choices import Role
from ismp.apps.audit.models import AuditAction
from ismp.apps.audit.services import Actor, record, snapshot
from ismp.apps.vulns.models import AffectedProductIndex, ProductAlias
from ismp.engines.matching.aliases import Alias, AliasTable, builtin_aliases, normalise

__all__ = ["add_alias", "builtin_aliases", "delete_alias", "load_alias_table", "product_dictionary"]
from ismp.engines.matching.suggest import ProductDictionary
from ismp.errors import Forbidden, InputError

T = TypeVar("T")
ALIAS_FIELDS = ("alias_vendor", "alias_product", "vendor", "product", "note")


class _Cached:
    """One value rebuilt when its signature changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._signature: object = None
        self._value: Any = None

    def get(self, signature: object, build: Callable[[], T]) -> T:
        with self._lock:
            if self._value is None or signature != self._signature:
                self._value, self._signature = build(), signature
            return self._value  # type: ignore[no-any-return]

    def clear(self) -> None:
        with self._lock:
            self._value = self._signature = None


_aliases = _Cached()
_dictionary = _Cached()


def load_alias_table() -> AliasTable:
    """Built-in aliases, then the CSIRT's (theirs win). Do not add to the table returned: it is shared."""
    signature = tuple(ProductAlias.objects.aggregate(n=Count("pk"), last=Max("pk")).values())
    return _aliases.get(signature, _build_table)


def _build_table() -> AliasTable:
    table = AliasTable(builtin_aliases())
    for row in ProductAlias.objects.order_by("pk"):
        table.add(Alias(row.alias_vendor, row.alias_product, row.vendor, row.product, "csirt", row.note))
    return table


def product_dictionary() -> ProductDictionary:
    """The (vendor, product) pairs NVD's CPE criteria name in the imported data."""
    signature = AffectedProductIndex.objects.aggregate(last=Max("pk"))["last"]
    return _dictionary.get(signature, _build_dictionary)


def _build_dictionary() -> ProductDictionary:
    rows = (
        AffectedProductIndex.objects.filter(source="nvd")
        .values_list("vendor", "product")
        .annotate(n=Count("vulnerability_id"))
        .order_by()
    )
    return ProductDictionary((vendor, product, n) for vendor, product, n in rows.iterator(chunk_size=5000))


def clear_caches() -> None:
    _aliases.clear()
    _dictionary.clear()


def alias_key(alias_vendor: str, alias_product: str) -> str:
    return f"{normalise(alias_vendor)}\t{normalise(alias_product)}"[:420]


def _check_csirt(actor: Actor) -> None:
    if actor.user is not None and actor.user.role != Role.CSIRT:
        raise Forbidden("only the CSIRT maintains product aliases")


@transaction.atomic
def add_alias(actor: Actor, data: Mapping[str, str]) -> ProductAlias:
    """Record that ``alias_vendor`` (and ``alias_product``) names NVD's ``vendor`` (and ``product``)."""
    _check_csirt(actor)
    values = {f: " ".join((data.get(f) or "").split()) for f in ALIAS_FIELDS}
    values["vendor"], values["product"] = values["vendor"].lower(), values["product"].lower()
    for field in ("alias_vendor", "vendor"):
        if not values[field]:
            raise InputError(f"{field.replace('_', ' ')} is required", field=field)
    if values["product"] and not values["alias_product"]:
        raise InputError("an NVD product needs the alias product it stands for", field="alias_product")
    if any(c in values[f] for f in ("vendor", "product") for c in ": "):
        raise InputError("NVD names have no spaces or colons, e.g. vendor apache, product http_server", field="vendor")
    alias = ProductAlias(key=alias_key(values["alias_vendor"], values["alias_product"]), **values)
    alias.created_by = actor.user
    try:
        with transaction.atomic():
            alias.save()
    except IntegrityError:
        shown = f"{values['alias_vendor']} {values['alias_product']}".strip()
        raise InputError(
            f'an alias for "{shown}" exists already; delete it first to change it', field="alias_vendor"
        ) from None
    record(actor, AuditAction.CREATE, alias, None, snapshot(alias))
    transaction.on_commit(_aliases.clear)
    return alias


@transaction.atomic
def delete_alias(actor: Actor, alias: ProductAlias) -> None:
    _check_csirt(actor)
    record(actor, AuditAction.DELETE, alias, snapshot(alias), None)
    alias.delete()
    transaction.on_commit(_aliases.clear)
