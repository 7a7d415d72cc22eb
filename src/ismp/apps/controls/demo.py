"""Controls of the demo company: a realistic mix of control statuses with evidence (most in place, some
partial, missing, stale or unrecorded, a few not applicable), the design review and pre-launch diagnosis of
every system in service, launches in progress, and one gate exception waiting for the CISO.

``load_demo()`` runs after the inventory's demo (it needs the systems and users) and is idempotent: once
any control or gate check is recorded it changes nothing. Statuses are chosen by a hash of the system and
control names, so every installation gets the same demo; dates are relative to today, so evidence goes
stale and exceptions stay pending however old the release is.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

from django.db import transaction

from ismp.apps.accounts.models import User
from ismp.apps.audit.services import Actor
from ismp.apps.controls import services
from ismp.apps.controls.models import GateCheck, GateException, SystemControl
from ismp.apps.controls.queries import current_baseline, today
from ismp.apps.inventory.choices import Lifecycle
from ismp.apps.inventory.models import System
from ismp.engines.controls import Control

EVIDENCE: dict[Control, tuple[str, str]] = {
    Control.FIREWALL: ("境界FWで許可通信をホワイトリスト化（ポリシー FW-POL 適用済み）", "fw-policy.xlsx"),
    Control.IDS_IPS: ("IDS/IPS センサーでセグメントを監視、シグネチャ自動更新", "ids-coverage.pdf"),
    Control.MAIL_WEB_AV: ("メール・プロキシのゲートウェイ型ウイルス対策を経由", "av-gateway.pdf"),
    Control.WAF: ("WAF（マネージドルール＋独自ルール）をブロックモードで運用", "waf-rules.pdf"),
    Control.VM_SECURITY: ("仮想サーバ向けセキュリティ（ホスト型IPS・改ざん検知）導入", "vm-security.pdf"),
    Control.PROFILING: ("通信プロファイリングで平常時の通信先を登録、逸脱を検知", "profiling.xlsx"),
    Control.REALTIME_MALWARE: ("EDR によるリアルタイムマルウェア検知、SOC が監視", "edr-report.pdf"),
    Control.NETWORK_DIAGNOSIS: ("定期NW診断（年2回）で重大指摘なし", "nw-diagnosis.pdf"),
    Control.WEB_DIAGNOSIS: ("Webアプリケーション診断（リリース時・年1回）で是正済み", "web-diagnosis.pdf"),
    Control.RISK_ASSESSMENT: ("リスクアセスメントを実施し残留リスクをサービス責任者が受容", "risk-assessment.xlsx"),
}
NOT_APPLICABLE_REASON = "機能を持たない構成のため対象外（設計レビューで確認済み）"

# launches in progress: system → (design review, pre-launch diagnosis); None = not yet performed
LAUNCHES: dict[str, tuple[str | None, str | None]] = {
    "次期ECサイト": ("passed", "failed"),
    "次期コアネットワーク": ("passed", None),
    "社内API基盤": ("failed", None),
    "電子請求書発行システム": ("passed", "passed"),
}
PENDING_EXCEPTION = (
    "次期ECサイト",
    "admin-ec",
    "年末商戦に合わせて公開が必要。リリース前診断の指摘（XSS 2件）は公開後2週間以内に是正し再診断を受ける。",
)


@dataclass
class ControlsDemoSummary:
    controls: int
    gate_checks: int
    exceptions: int
    already_loaded: bool


def _pick(*parts: str) -> int:
    """A stable number 0–99 from names (the same demo everywhere)."""
    return zlib.crc32("|".join(parts).encode("utf-8")) % 100


@transaction.atomic
def load_demo() -> ControlsDemoSummary:
    loaded = SystemControl.objects.exists() or GateCheck.objects.exists()
    if not loaded:
        _load()
    return ControlsDemoSummary(
        controls=SystemControl.objects.count(),
        gate_checks=GateCheck.objects.count(),
        exceptions=GateException.objects.count(),
        already_loaded=loaded,
    )


def _load() -> None:
    users = {u.username: u for u in User.objects.all()}
    csirt = Actor(users.get("csirt"), "demo", label="demo-loader")
    day = today()
    systems = (
        System.objects.exclude(lifecycle__in=(Lifecycle.RETIRED, Lifecycle.PLANNED))
        .prefetch_related("administrators")
        .order_by("name")
    )
    baseline = current_baseline()
    for system in systems:
        admins = sorted(system.administrators.all(), key=lambda u: u.username)
        who = Actor(admins[0], "demo") if admins else csirt
        _controls(system, baseline.required(system.system_type), who, day)
        _gates(system, csirt, day)
    name, requester, reason = PENDING_EXCEPTION
    launching = System.objects.filter(name=name).first()
    if launching is not None:
        actor = Actor(users.get(requester), "demo", label="demo-loader")
        services.request_exception(actor, launching, reason=reason, expires_on=day + dt.timedelta(days=30))


def _controls(system: System, required: frozenset[Control], actor: Actor, day: dt.date) -> None:
    complete = _pick(system.name) < 15  # a few systems with everything in place
    for control in (c for c in Control if c in required):
        n = 0 if complete else _pick(system.name, control.value)
        text, file_name = EVIDENCE[control]
        if n >= 95:
            continue  # not recorded yet
        if n >= 92:
            services.set_control(actor, system, control.value, "not_applicable", reason=NOT_APPLICABLE_REASON)
            continue
        status = "missing" if n >= 86 else "partial" if n >= 78 else "implemented"
        stale = 70 <= n < 78
        review_by = day - dt.timedelta(days=10 + n) if stale else day + dt.timedelta(days=90 + 3 * n)
        evidence = {"implemented": text, "partial": f"{text}（対応中: 一部未適用）"}.get(status, "")
        services.set_control(
            actor,
            system,
            control.value,
            status,
            evidence=evidence,
            reference=f"https://wiki.aoba.example/security/controls/{system.pk}/{control.value}",
            evidence_file=file_name if status == "implemented" else "",
            review_by=review_by if status == "implemented" else None,
        )


def _gates(system: System, actor: Actor, day: dt.date) -> None:
    if system.lifecycle == Lifecycle.IN_SERVICE:
        results: tuple[str | None, str | None] = ("passed", "passed")
        started = day - dt.timedelta(days=200 + 6 * _pick(system.name))
    elif system.name in LAUNCHES:
        results = LAUNCHES[system.name]
        started = day - dt.timedelta(days=40)
    else:
        return
    for kind, result, offset in (("design_review", results[0], 0), ("prelaunch", results[1], 30)):
        if result is None:
            continue
        services.record_gate_check(
            actor,
            system,
            kind,
            result,
            evidence="設計レビュー議事録（指摘事項の是正を確認）"
            if kind == "design_review"
            else "リリース前診断報告書（NW・Web診断）",
            reference=f"DOC-{system.pk:04d}-{'DR' if kind == 'design_review' else 'PL'}",
            performed_on=min(started + dt.timedelta(days=offset), day),
        )
