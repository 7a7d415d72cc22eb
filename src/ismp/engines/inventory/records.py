"""Plain records produced by the inventory readers and consumed by the inventory service."""

from __future__ import annotations

from dataclasses import dataclass, field

# The ledger's column layout (docs/inventory-format.md). System columns first, component columns last.
SYSTEM_COLUMNS: tuple[str, ...] = (
    "system",
    "purpose",
    "organisation",
    "service_owner",
    "administrators",
    "lifecycle",
    "system_type",
    "criticality",
    "has_global_ip",
    "addresses",
    "fqdns",
    "urls",
    "hardware",
    "location",
    "notes",
)
COMPONENT_COLUMNS: tuple[str, ...] = ("cpe", "purl", "part", "vendor", "product", "version")
LEDGER_COLUMNS: tuple[str, ...] = SYSTEM_COLUMNS + COMPONENT_COLUMNS
REQUIRED_COLUMNS: frozenset[str] = frozenset({"system"})


@dataclass(frozen=True, slots=True)
class ComponentRecord:
    """One piece of software on a system. Empty string means "not given"."""

    line: int
    cpe: str = ""
    purl: str = ""
    part: str = ""
    vendor: str = ""
    product: str = ""
    version: str = ""

    @property
    def key(self) -> str:
        """Identity of the component within one system and source."""
        if self.cpe:
            return self.cpe
        if self.purl:
            return self.purl
        return f"{self.part}:{self.vendor}:{self.product}:{self.version}".lower()


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One row of a ledger: the system's columns as written, and the component on that row if any."""

    line: int
    system: dict[str, str] = field(default_factory=dict)
    component: ComponentRecord | None = None


@dataclass(frozen=True, slots=True)
class SbomDocument:
    """The components of one SBOM, with what the document says about itself."""

    format: str
    spec_version: str
    name: str
    components: list[ComponentRecord]
