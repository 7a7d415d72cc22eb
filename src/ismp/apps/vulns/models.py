from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ismp.apps.vulns.choices import ChangeKind, EvidenceSource

# the fields of Vulnerability that ``merge`` computes from the sources
MERGED_FIELDS = (
    "aliases",
    "title",
    "title_ja",
    "description",
    "description_ja",
    "published",
    "modified",
    "rejected",
    "cvss_version",
    "cvss_score",
    "cvss_vector",
    "cvss_source",
    "attack_vector",
    "risk_level",
    "severity_basis",
    "cwes",
    "ssvc_exploitation",
    "ssvc_automatable",
    "ssvc_technical_impact",
    "sources",
)


class Vulnerability(models.Model):
    """One vulnerability (per CVE; per JVNDB/OSV id when it has no CVE), merged from every source."""

    vuln_id = models.CharField(_("id"), max_length=64, unique=True)
    aliases = models.JSONField(_("aliases"), default=list)
    title = models.TextField(_("title"), blank=True)
    title_ja = models.TextField(_("Japanese title"), blank=True)
    description = models.TextField(_("description"), blank=True)
    description_ja = models.TextField(_("Japanese description"), blank=True)
    published = models.DateTimeField(_("published"), null=True)
    modified = models.DateTimeField(_("modified"), null=True)
    rejected = models.BooleanField(_("rejected"), default=False)
    cvss_version = models.CharField(_("CVSS version"), max_length=4, blank=True)
    cvss_score = models.FloatField(_("CVSS base score"), null=True)
    cvss_vector = models.CharField(_("CVSS vector"), max_length=200, blank=True)
    cvss_source = models.CharField(_("scored by"), max_length=100, blank=True)
    attack_vector = models.CharField(_("attack vector"), max_length=20, blank=True)
    risk_level = models.PositiveSmallIntegerField(_("risk level"), default=1)
    severity_basis = models.CharField(_("severity basis"), max_length=200, blank=True)
    cwes = models.JSONField(_("CWE"), default=list)
    ssvc_exploitation = models.CharField(_("SSVC exploitation"), max_length=8, blank=True)
    ssvc_automatable = models.CharField(_("SSVC automatable"), max_length=8, blank=True)
    ssvc_technical_impact = models.CharField(_("SSVC technical impact"), max_length=8, blank=True)
    sources = models.JSONField(_("sources"), default=list)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published", "vuln_id"]
        verbose_name = _("vulnerability")
        verbose_name_plural = _("vulnerabilities")
        indexes = [models.Index(fields=["risk_level"]), models.Index(fields=["published"])]

    def __str__(self) -> str:
        return self.vuln_id


class SourceRecord(models.Model):
    """What one source says about one vulnerability, kept as it came (provenance). ``digest`` identifies
    the content, so that importing unchanged data writes nothing."""

    source = models.CharField(_("source"), max_length=16)
    source_id = models.CharField(_("source id"), max_length=64)
    modified = models.DateTimeField(_("modified"), null=True)
    digest = models.CharField(max_length=32)
    data = models.TextField(_("record"))  # the VulnRecord as JSON (msgspec), configurations included
    imported_at = models.DateTimeField(default=timezone.now, db_index=True)  # matching checks the latest
    vulnerabilities = models.ManyToManyField(Vulnerability, related_name="source_records")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], name="source_record_unique")]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_id}"


class AffectedProductIndex(models.Model):
    """Which vendor:product a vulnerability's applicability names (from any source): the look-up the
    matching engine starts from. The full criteria stay in the source record."""

    vulnerability = models.ForeignKey(Vulnerability, on_delete=models.CASCADE, related_name="+", db_index=False)
    source = models.CharField(max_length=16)
    vendor = models.CharField(max_length=200)
    product = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vulnerability", "source", "vendor", "product"], name="affected_unique")
        ]
        indexes = [models.Index(fields=["product", "vendor"])]

    def __str__(self) -> str:
        return f"{self.vendor}:{self.product}"


class ExploitEvidence(models.Model):
    """Evidence that an attack tool exists or that the vulnerability is exploited. Keyed by the CVE id,
    so evidence may arrive before the vulnerability's own record."""

    vuln_id = models.CharField(_("vulnerability"), max_length=64, db_index=True)
    source = models.CharField(_("source"), max_length=16, choices=EvidenceSource.choices)
    reference = models.CharField(_("reference"), max_length=300)
    name = models.TextField(_("name"), blank=True)
    date = models.DateField(_("date"), null=True)
    due = models.DateField(_("due date"), null=True)
    details = models.JSONField(_("details"), default=dict)
    first_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vuln_id", "source", "reference"], name="evidence_unique")]
        verbose_name = _("exploit evidence")

    def __str__(self) -> str:
        return f"{self.vuln_id} {self.source} {self.reference}"


class EpssScore(models.Model):
    """The latest EPSS score of a CVE, and the one before it (for jumps)."""

    vuln_id = models.CharField(max_length=64, unique=True)
    score = models.FloatField()
    percentile = models.FloatField()
    date = models.DateField(null=True)
    previous_score = models.FloatField(null=True)

    def __str__(self) -> str:
        return f"{self.vuln_id} {self.score:.5f}"


class ChangeEvent(models.Model):
    """A typed change that matching and notifications react to. Consumers remember the last id read."""

    at = models.DateTimeField(default=timezone.now)
    vuln_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=24, choices=ChangeKind.choices)
    source = models.CharField(max_length=16)
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["vuln_id"])]

    def __str__(self) -> str:
        return f"{self.vuln_id} {self.kind}"


class FeedState(models.Model):
    """Health of one source: last success, watermark, counts, last error."""

    source = models.CharField(max_length=16, unique=True)
    last_attempt = models.DateTimeField(null=True)
    last_success = models.DateTimeField(null=True)
    watermark = models.CharField(max_length=64, blank=True)
    records = models.PositiveIntegerField(default=0)
    last_report = models.JSONField(default=dict)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.source


class ProductAlias(models.Model):
    """A CSIRT's own alias: a vendor (and product) name as some source or the company writes it, and the NVD
    CPE vendor and product it stands for. Used with the built-in table (ismp/engines/matching/aliases.csv)
    by matching and CPE suggestions; ``key`` is the normalised alias, unique."""

    key = models.CharField(max_length=420, unique=True, editable=False)
    alias_vendor = models.CharField(_("alias vendor"), max_length=200)
    alias_product = models.CharField(_("alias product"), max_length=200, blank=True)
    vendor = models.CharField(_("NVD vendor"), max_length=200)
    product = models.CharField(_("NVD product"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["alias_vendor", "alias_product"]
        verbose_name = _("product alias")
        verbose_name_plural = _("product aliases")

    def __str__(self) -> str:
        alias = f"{self.alias_vendor} {self.alias_product}".strip()
        return f"{alias} → {self.vendor}:{self.product or '*'}"
