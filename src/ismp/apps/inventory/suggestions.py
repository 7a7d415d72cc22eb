"""CPE suggestions for the components of a system that have no CPE, and accepting one.

NVD criteria match a component by its CPE; a component registered with a free-text vendor/product or only
a package URL may be missed. Suggestions come from the engine (:mod:`ismp.engines.matching.suggest`)
with the alias table and the NVD product dictionary of :mod:`ismp.apps.vulns.aliases`. A suggestion is
only ever applied by a person, through :func:`accept_suggestion`, which changes the component through the
inventory service: checked, audited, and refused to those who may not change the system.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from ismp.apps.audit.services import Actor
from ismp.apps.inventory import services
from ismp.apps.inventory.models import Component, System
from ismp.apps.vulns.aliases import load_alias_table, product_dictionary
from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching.suggest import Suggestion, suggest_cpes
from ismp.errors import InputError

SUGGESTIONS_PER_COMPONENT = 5
COMPONENTS_SHOWN = 200  # a system with more components without CPE shows the first ones


@dataclass(frozen=True, slots=True)
class ComponentSuggestions:
    component: Component
    suggestions: list[Suggestion]


def components_without_cpe(system: System) -> QuerySet[Component]:
    return system.components.filter(cpe="").order_by("vendor", "product", "version", "pk")


def record_of(component: Component) -> ComponentRecord:
    return ComponentRecord(
        line=0,
        cpe=component.cpe,
        purl=component.purl,
        part=component.part,
        vendor=component.vendor,
        product=component.product,
        version=component.version,
    )


def suggestions_for(
    components: Iterable[Component], limit: int = SUGGESTIONS_PER_COMPONENT
) -> list[ComponentSuggestions]:
    """Each component without a CPE with its suggestions, best first (possibly none)."""
    table, dictionary = load_alias_table(), product_dictionary()
    return [
        ComponentSuggestions(c, suggest_cpes(record_of(c), dictionary, limit, aliases=table))
        for c in components
        if not c.cpe
    ]


def system_suggestions(system: System, limit: int = SUGGESTIONS_PER_COMPONENT) -> list[ComponentSuggestions]:
    return suggestions_for(components_without_cpe(system)[:COMPONENTS_SHOWN], limit)


def accept_suggestion(component: Component, cpe: str, actor: Actor) -> Component:
    """Give ``component`` the CPE a person chose; the names the person registered are kept beside it.
    Raises Forbidden when the actor may not change the system, InputError when the CPE is not valid or
    another component of the system already has it."""
    if component.cpe:
        raise InputError(
            f"{component} already has the CPE {component.cpe}; edit the component to change it", field="cpe"
        )
    data = {
        "cpe": cpe.strip(),
        "part": "",  # from the CPE
        "vendor": component.vendor,
        "product": component.product,
        "version": component.version,
    }
    return services.save_component(actor, component.system, data, component=component)
