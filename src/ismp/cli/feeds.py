"""``ismp feeds import|update|status|sources|aliases`` and ``ismp vulns show|evidence``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ismp.cli.common import add_as, add_json, cli_actor, emit, err, setup_django


def register(sub: Any) -> None:
    feeds = sub.add_parser("feeds", help="import vulnerability intelligence and see each feed's health").add_subparsers(
        dest="feeds_command", metavar="COMMAND", required=True
    )
    p = feeds.add_parser("import", help="import files of one source (offline: air-gapped sites, tests)")
    p.add_argument("source", help="the source's name (see `ismp feeds sources`)")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    add_json(p)
    p.set_defaults(handler=cmd_import)

    p = feeds.add_parser(
        "update", help="fetch what changed online since the last update (default: every online source)"
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="nvd, jvn, kev, epss (default: all online sources)")
    add_json(p)
    p.set_defaults(handler=cmd_update)

    p = feeds.add_parser("status", help="per source: last success, watermark, record count, last error")
    add_json(p)
    p.set_defaults(handler=cmd_status)

    p = feeds.add_parser("sources", help="list the registered feed adapters")
    add_json(p)
    p.set_defaults(handler=cmd_sources)

    aliases = feeds.add_parser("aliases", help="vendor/product aliases: names other sources give NVD products")
    alias_commands = aliases.add_subparsers(dest="aliases_command", metavar="COMMAND", required=True)
    p = alias_commands.add_parser("list", help="the CSIRT's aliases (--builtin: the ones ISMP ships as well)")
    p.add_argument("--builtin", action="store_true", help="list the built-in aliases too")
    add_json(p)
    p.set_defaults(handler=cmd_aliases_list)
    p = alias_commands.add_parser("add", help="record that a vendor (and product) name is an NVD vendor (product)")
    p.add_argument("alias_vendor", help='the name as written elsewhere, e.g. "サイボウズ株式会社"')
    p.add_argument("vendor", help="the NVD CPE vendor, e.g. cybozu")
    p.add_argument("--alias-product", default="", help="the product name as written elsewhere")
    p.add_argument("--product", default="", help="the NVD CPE product (with --alias-product)")
    p.add_argument("--note", default="", help="why, or where the name was seen")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_aliases_add)
    p = alias_commands.add_parser("delete", help="delete one of the CSIRT's aliases")
    p.add_argument("id", type=int, help="the alias's id (as list prints it)")
    add_as(p)
    p.set_defaults(handler=cmd_aliases_delete)

    vulns = sub.add_parser("vulns", help="look up vulnerabilities").add_subparsers(
        dest="vulns_command", metavar="COMMAND", required=True
    )
    p = vulns.add_parser("show", help="the merged record of a vulnerability, with provenance and exploit evidence")
    p.add_argument("id", help="CVE-… or JVNDB-… (or another source's id)")
    add_json(p)
    p.set_defaults(handler=cmd_show)

    p = vulns.add_parser("evidence", help="record the CSIRT's own exploit evidence for a vulnerability")
    p.add_argument("id", help="CVE-… or JVNDB-…")
    p.add_argument("--reference", required=True, help="where the evidence is: a URL, a ticket, a report")
    p.add_argument("--note", default="", help="what was seen")
    p.add_argument("--date", type=_date, help="when it was seen (YYYY-MM-DD)")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_evidence)


def cmd_import(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.vulns.services import import_feed

    with err.status(f"Importing {args.source}…") as status:
        report = import_feed(args.source, args.paths, progress=lambda text: status.update(f"Importing {text}…"))
    d = report.as_dict()
    emit(
        d,
        args.json,
        f"{args.source}: {d['records_read']:,} records read from {len(d['files'])} file(s): {d['records_new']:,} new, "
        f"{d['records_changed']:,} changed, {d['records_unchanged']:,} unchanged; vulnerabilities "
        f"{d['vulnerabilities_new']:,} new, {d['vulnerabilities_updated']:,} updated; evidence {d['evidence_new']:,} "
        f"new; EPSS {d['epss_new']:,} new, {d['epss_changed']:,} changed; {d['events']:,} change events.",
    )
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.vulns.services import update_feed
    from ismp.engines.feeds.registry import online_registry
    from ismp.errors import IsmpError

    sources = args.sources or online_registry.names()
    reports, failed = [], []
    for source in sources:
        try:
            with err.status(f"Updating {source}…") as status:
                report = update_feed(source, progress=lambda text: status.update(f"Updating {text}…"))
            reports.append(report.as_dict())
        except IsmpError as exc:
            failed.append({"source": source, "error": str(exc)})
            err.print(f"[red]{source}: {exc}[/red]")
    text = "\n".join(
        f"{r['source']}: {r['records_read']:,} records, {r['records_new']:,} new, {r['records_changed']:,} changed, "
        f"{r['evidence_new']:,} new evidence, {r['events']:,} events"
        for r in reports
    )
    emit({"updated": reports, "failed": failed}, args.json, text or "nothing updated")
    return 69 if failed else 0


def cmd_status(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.vulns.queries import feed_status

    rows = feed_status()
    lines = [
        f"{r['source']:<11} {r['records']:>9,}  last success {_when(r['last_success'])}"
        + (f"  watermark {r['watermark']}" if r["watermark"] else "")
        + (f"\n            last error: {r['last_error'].splitlines()[0]}" if r["last_error"] else "")
        for r in rows
    ]
    emit(rows, args.json, "\n".join(lines))
    return 0


def _when(moment: Any) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else "never"


def cmd_sources(args: argparse.Namespace) -> int:
    from ismp.engines.feeds.registry import registry

    names = registry.names()
    emit(names, args.json, "\n".join(names))
    return 0


def _date(text: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def cmd_evidence(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.vulns.services import record_analyst_evidence

    evidence = record_analyst_evidence(
        cli_actor(args.as_user), args.id, reference=args.reference, note=args.note, date=args.date
    )
    emit(
        {"vuln_id": evidence.vuln_id, "source": evidence.source, "reference": evidence.reference},
        args.json,
        f"Recorded analyst evidence for {evidence.vuln_id}: {evidence.reference}",
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.vulns.queries import vulnerability_detail

    detail = vulnerability_detail(args.id)
    if args.json:
        emit(detail, True)
        return 0
    v = detail["vulnerability"]
    lines = [
        f"{v['vuln_id']}  risk level {v['risk_level']}  ({v['severity_basis']})",
        v["title"] or v["description"][:200],
    ]
    if v["title_ja"] or v["description_ja"]:
        lines.append(v["title_ja"] or v["description_ja"][:200])
    lines.append(f"attack vector: {v['attack_vector'] or '—'}   CWE: {', '.join(v['cwes']) or '—'}")
    lines.append("sources: " + ", ".join(f"{s['source']}:{s['source_id']}" for s in detail["sources"]))
    for e in detail["evidence"]:
        lines.append(f"evidence: {e['source']} {e['reference']} {e['date'] or ''} {e['name'][:80]}")
    if detail["epss"]:
        lines.append(
            f"EPSS: {detail['epss']['score']:.5f} (percentile {detail['epss']['percentile']:.3f}, "
            f"{detail['epss']['date'] or 'date unknown'})"
        )
    emit(detail, False, "\n".join(lines))
    return 0


def _alias_row(alias: Any, source: str = "csirt") -> dict[str, Any]:
    return {
        "id": getattr(alias, "pk", None),
        "alias_vendor": alias.alias_vendor,
        "alias_product": alias.alias_product,
        "vendor": alias.vendor,
        "product": alias.product,
        "source": source if source else alias.source,
        "note": alias.note,
    }


def cmd_aliases_list(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.vulns.aliases import builtin_aliases
    from ismp.apps.vulns.models import ProductAlias

    rows = [_alias_row(a) for a in ProductAlias.objects.all()]
    if args.builtin:
        rows += [_alias_row(a, "") for a in builtin_aliases()]
    text = "\n".join(
        f"{r['id'] or '-':>5}  {r['source']:<7} {(r['alias_vendor'] + ' ' + r['alias_product']).strip()}"
        f" → {r['vendor']}:{r['product'] or '*'}"
        for r in rows
    )
    emit(rows, args.json, text or "no CSIRT aliases (--builtin lists the ones ISMP ships)")
    return 0


def cmd_aliases_add(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.vulns.aliases import add_alias

    data = {
        "alias_vendor": args.alias_vendor,
        "alias_product": args.alias_product,
        "vendor": args.vendor,
        "product": args.product,
        "note": args.note,
    }
    alias = add_alias(cli_actor(args.as_user), data)
    emit(_alias_row(alias), args.json, f"added alias {alias.pk}: {alias}")
    return 0


def cmd_aliases_delete(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.vulns.aliases import delete_alias
    from ismp.apps.vulns.models import ProductAlias
    from ismp.errors import NotFound

    alias = ProductAlias.objects.filter(pk=args.id).first()
    if alias is None:
        raise NotFound(f"alias {args.id} does not exist")
    delete_alias(cli_actor(args.as_user), alias)
    print(f"deleted alias {args.id}: {alias}")
    return 0
