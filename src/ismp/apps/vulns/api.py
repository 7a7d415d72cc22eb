"""REST API for vulnerability intelligence: read-only, for every role (the data is public knowledge).

The list takes the web search's filters as query parameters (the same form parses both); a vulnerability is
addressed by its id (CVE-…, or another source's id for it), not by a database key.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ismp.apps.accounts.choices import Role
from ismp.apps.audit.services import Actor
from ismp.apps.vulns.forms import ATTACK_VECTOR_CHOICES, VulnFilterForm
from ismp.apps.vulns.models import Vulnerability
from ismp.apps.vulns.queries import (
    SUMMARY_FIELDS,
    VULN_ORDERS,
    feed_status,
    vulnerability_detail,
    vulnerability_list,
)
from ismp.apps.vulns.services import record_analyst_evidence


class VulnerabilitySummarySerializer(serializers.ModelSerializer[Vulnerability]):
    """The merged summary of a vulnerability (``queries.SUMMARY_FIELDS``)."""

    class Meta:
        model = Vulnerability
        fields = list(SUMMARY_FIELDS)


class VulnerabilitySerializer(VulnerabilitySummarySerializer):
    """A row of the vulnerability list: the summary with KEV, exploits and EPSS."""

    in_kev = serializers.BooleanField(read_only=True)
    kev_added = serializers.DateField(read_only=True, allow_null=True)
    kev_due = serializers.DateField(read_only=True, allow_null=True)
    has_exploitdb = serializers.BooleanField(read_only=True)
    has_metasploit = serializers.BooleanField(read_only=True)
    epss_score = serializers.FloatField(read_only=True, allow_null=True)
    epss_percentile = serializers.FloatField(read_only=True, allow_null=True)

    class Meta(VulnerabilitySummarySerializer.Meta):
        fields = [
            *SUMMARY_FIELDS,
            "in_kev",
            "kev_added",
            "kev_due",
            "has_exploitdb",
            "has_metasploit",
            "epss_score",
            "epss_percentile",
        ]


class SourceRecordSerializer(serializers.Serializer[Any]):
    source = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.source (the metaclass pops it)
    source_id = serializers.CharField()
    modified = serializers.DateTimeField(allow_null=True)
    imported_at = serializers.DateTimeField()
    record = serializers.JSONField(help_text="the source's record as ISMP stores it (VulnRecord)")


class EvidenceSerializer(serializers.Serializer[Any]):
    source = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.source (the metaclass pops it)
    reference = serializers.CharField()
    name = serializers.CharField()
    date = serializers.DateField(allow_null=True)
    due = serializers.DateField(allow_null=True)
    details = serializers.JSONField()


class EpssSerializer(serializers.Serializer[Any]):
    score = serializers.FloatField()
    percentile = serializers.FloatField()
    date = serializers.DateField(allow_null=True)
    previous_score = serializers.FloatField(allow_null=True)


class VulnerabilityDetailSerializer(serializers.Serializer[Any]):
    """``queries.vulnerability_detail``: the summary, each source's own record, evidence and EPSS."""

    vulnerability = VulnerabilitySummarySerializer()
    sources = SourceRecordSerializer(many=True)
    evidence = EvidenceSerializer(many=True)
    epss = EpssSerializer(allow_null=True)


class FeedStatusSerializer(serializers.Serializer[Any]):
    source = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.source (the metaclass pops it)
    last_attempt = serializers.DateTimeField(allow_null=True)
    last_success = serializers.DateTimeField(allow_null=True)
    watermark = serializers.CharField(allow_blank=True)
    records = serializers.IntegerField()
    last_error = serializers.CharField(allow_blank=True)
    last_report = serializers.JSONField()


_YES_NO = ["true", "false"]
LIST_PARAMETERS = [
    OpenApiParameter("search", str, description="ids (CVE-…, JVNDB-…, PYSEC-…, DSA-…) or words of title/description"),
    OpenApiParameter("product", str, description="a product or vendor name, or vendor:product"),
    OpenApiParameter("cwe", str, description="e.g. CWE-79 or 79"),
    OpenApiParameter("kev", str, enum=_YES_NO, description="in CISA's Known Exploited Vulnerabilities catalogue"),
    OpenApiParameter("exploit", str, enum=_YES_NO, description="any exploit evidence (KEV, Exploit-DB, Metasploit…)"),
    OpenApiParameter("epss_min", float, description="EPSS score at least (0–1)"),
    OpenApiParameter("risk_level", int, enum=[1, 2, 3, 4, 5]),
    OpenApiParameter("attack_vector", str, enum=[value for value, _label in ATTACK_VECTOR_CHOICES]),
    OpenApiParameter("published_from", OpenApiTypes.DATE),
    OpenApiParameter("published_to", OpenApiTypes.DATE),
    OpenApiParameter("ordering", str, enum=[o for key in VULN_ORDERS for o in (key, f"-{key}")]),
]


class AnalystEvidenceSerializer(serializers.Serializer[Any]):
    reference = serializers.CharField(max_length=300)
    note = serializers.CharField(required=False, allow_blank=True)
    date = serializers.DateField(required=False, allow_null=True)


@extend_schema_view(
    list=extend_schema(parameters=LIST_PARAMETERS),
    retrieve=extend_schema(responses=VulnerabilityDetailSerializer),
)
class VulnerabilityViewSet(viewsets.ReadOnlyModelViewSet[Vulnerability]):
    """Vulnerabilities merged from every feed, with KEV, exploit evidence and EPSS. An invalid filter value
    filters nothing. The detail is addressed by the vulnerability's id, or another source's id for it."""

    serializer_class = VulnerabilitySerializer
    lookup_field = "vuln_id"
    lookup_value_regex = r"[^/]+"

    def get_queryset(self) -> Any:
        return vulnerability_list(self.request.user, **VulnFilterForm.from_api(self.request.query_params).query())

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(VulnerabilityDetailSerializer(vulnerability_detail(kwargs[self.lookup_field])).data)

    write_roles = (Role.CSIRT,)

    @extend_schema(request=AnalystEvidenceSerializer, responses={201: AnalystEvidenceSerializer})
    @action(detail=True, methods=["post"])
    def evidence(self, request: Request, vuln_id: str | None = None) -> Response:
        """Record the CSIRT's own exploit evidence (a PoC seen, an incident) for this vulnerability."""
        form = AnalystEvidenceSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        evidence = record_analyst_evidence(
            Actor(request.user, "api"),
            vuln_id or "",  # evidence may come before the vulnerability's own record
            reference=form.validated_data["reference"],
            note=form.validated_data.get("note", ""),
            date=form.validated_data.get("date"),
        )
        body = {
            "vuln_id": evidence.vuln_id,
            "reference": evidence.reference,
            "note": evidence.name,
            "date": evidence.date,
        }
        return Response(body, status=201)


class FeedStatusViewSet(viewsets.ViewSet):
    """The health of every registered vulnerability source: last attempt and success, watermark, record
    count, last error and the last import's report."""

    @extend_schema(responses=FeedStatusSerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response(FeedStatusSerializer(feed_status(), many=True).data)
