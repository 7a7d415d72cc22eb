"""What each notification event says, in Japanese and English, and who else hears of it.

A registry, not an if-chain: an app that needs a new kind of notification registers an ``EventType`` here
(``register``) and calls ``services.announce`` with its name. Subjects and intros are format strings with
``{summary}`` (e.g. "CVE-2014-6271 (S+) ほか2件") and ``{title}`` (an alert's title).
"""

from __future__ import annotations

from dataclasses import dataclass

DRILL_MARK = {"ja": "【訓練】", "en": "[DRILL] "}
PREFIX = {"ja": "【ISMP】", "en": "[ISMP] "}


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    subject: dict[str, str]  # language → format string
    intro: dict[str, str]
    escalates: bool = False  # also the head of the system's organisation and every CISO
    always_immediate: bool = False  # sent at once whatever the urgency (the CSIRT chose to alert now)
    always_drill: bool = False  # marked 【訓練】/[DRILL] whatever the caller says


EVENTS: dict[str, EventType] = {}


def register(event: EventType) -> EventType:
    if event.name in EVENTS:
        raise ValueError(f"notification event {event.name!r} is registered already")
    EVENTS[event.name] = event
    return event


def get(name: str) -> EventType:
    try:
        return EVENTS[name]
    except KeyError:
        raise ValueError(f"unknown notification event {name!r}; known: {', '.join(sorted(EVENTS))}") from None


register(
    EventType(
        "finding.new",
        subject={
            "ja": "新たな脆弱性がシステムに影響: {summary}",
            "en": "New vulnerability affects your systems: {summary}",
        },
        intro={
            "ja": "管理されているシステムに影響する脆弱性情報が見つかりました。対策要否を登録してください。",
            "en": "Vulnerability information affecting systems you administer was found. "
            "Please register whether a countermeasure is needed (対策要否).",
        },
    )
)
register(
    EventType(
        "finding.escalated",
        subject={"ja": "対応緊急度の引き上げ: {summary}", "en": "Response urgency raised: {summary}"},
        intro={
            "ja": "次の脆弱性の対応緊急度が引き上げられました。対応実施基準に従って対応してください。",
            "en": "The response urgency of these vulnerabilities was raised. "
            "Please respond according to the response standards (対応実施基準).",
        },
    )
)
register(
    EventType(
        "workitem.reminder",
        subject={"ja": "登録期間の終了が近づいています: {summary}", "en": "Registration period ends soon: {summary}"},
        intro={
            "ja": "次の対応の登録期間がまもなく終了します。期限までに登録してください。",
            "en": "The registration period (登録期間) of these items ends soon. Please register before the deadline.",
        },
    )
)
register(
    EventType(
        "workitem.overdue",
        subject={"ja": "登録期間を過ぎています: {summary}", "en": "Registration period has passed: {summary}"},
        intro={
            "ja": "次の対応は登録期間を過ぎても登録されていません。組織の長と CISO にも通知しています。",
            "en": "These items were not registered within their registration period (登録期間). "
            "The head of the organisation and the CISO are notified as well.",
        },
        escalates=True,
    )
)
register(
    EventType(
        "alert",
        subject={"ja": "【警報】{title}", "en": "[ALERT] {title}"},
        intro={"ja": "情報セキュリティ部からの警報です。", "en": "An alert from the CSIRT (警報配信)."},
        always_immediate=True,
    )
)
register(
    EventType(
        "drill",
        subject={"ja": "対応訓練: {summary}", "en": "Response drill: {summary}"},
        intro={
            "ja": "これは対応訓練です。実際の脆弱性対応ではありません。手順に従って訓練として対応してください。",
            "en": "This is a response drill (対応訓練), not a real incident. Please respond as the drill's "
            "procedure asks.",
        },
        always_immediate=True,
        always_drill=True,
    )
)
