"""Online updates through the vulns service and the CLI, against a local replay server: records stored,
watermarks advanced, re-runs idempotent, an interrupted update resumed where it stopped."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import httpx
import pytest

from ismp.apps.vulns.models import EpssScore, ExploitEvidence, FeedState, SourceRecord, Vulnerability
from ismp.apps.vulns.services import FeedReport, update_feed
from ismp.cli.main import main
from ismp.errors import FeedUnavailable
from replay import (
    ReplayServer,
    Reply,
    epss_file,
    jvn_detail,
    jvn_entries,
    jvn_overview,
    kev_catalogue,
    nvd_page,
    nvd_pages,
    nvd_vulnerabilities,
)

NOW = dt.datetime(2023, 10, 18, 18, 30, 15, tzinfo=dt.UTC)
END = "2023-10-18T18:30:15Z"
FIRST_START = "2023-06-20T18:30:15Z"  # 120 days before NOW: where a first NVD update starts
NVD, KEV, EPSS, MYJVN = "/rest/json/cves/2.0", "/kev.json", "/epss_scores-current.csv.gz", "/myjvn"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        yield replay


@pytest.fixture
def feed_urls(settings, server: ReplayServer) -> dict[str, str]:
    urls = {"nvd": server.url + NVD, "kev": server.url + KEV, "epss": server.url + EPSS, "jvn": server.url + MYJVN}
    settings.ISMP = settings.ISMP.model_copy(update={"feed_urls": urls})
    return urls


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as http:
        yield http


def update(source: str, client: httpx.Client, now: dt.datetime = NOW) -> FeedReport:
    return update_feed(source, client=client, now=now, sleep=Sleeps())


def script_nvd(server: ReplayServer) -> list[str]:
    items = nvd_vulnerabilities()[:9]
    for start, page in nvd_pages(items, 3).items():
        server.add(NVD, Reply(body=page), startIndex=start)
    return [item["cve"]["id"] for item in items]


def nvd_ids() -> set[str]:
    return set(SourceRecord.objects.filter(source="nvd").values_list("source_id", flat=True))


def test_nvd_update_stores_every_page_and_moves_the_watermark(db, server, feed_urls, client):
    expected = script_nvd(server)
    report = update("nvd", client)
    assert (report.records_read, report.records_new, report.vulnerabilities_new) == (9, 9, 9)
    assert nvd_ids() == set(expected)
    assert set(Vulnerability.objects.values_list("vuln_id", flat=True)) == set(expected)
    state = FeedState.objects.get(source="nvd")
    assert state.watermark == END and state.last_success is not None and state.last_error == ""
    assert server.queries()[0]["lastModStartDate"] == FIRST_START.replace("Z", ".000+00:00")

    # an hour later NVD answers the same CVEs again: nothing is written, the watermark moves on
    server.requests.clear()
    again = update("nvd", client, NOW + dt.timedelta(hours=1))
    assert (again.records_new, again.records_changed, again.records_unchanged, again.events) == (0, 0, 9, 0)
    assert server.queries()[0]["lastModStartDate"] == "2023-10-18T18:30:15.000+00:00"
    assert FeedState.objects.get(source="nvd").watermark == "2023-10-18T19:30:15Z"


def test_interrupted_nvd_update_keeps_page_one_and_the_next_run_finishes(db, server, feed_urls, client):
    items = nvd_vulnerabilities()[:9]
    pages = nvd_pages(items, 3)
    server.add(NVD, Reply(body=pages[0]), startIndex=0)
    server.add(NVD, Reply.disconnect(), startIndex=3)  # the server dies on page 2, and stays dead
    with pytest.raises(FeedUnavailable) as caught:
        update("nvd", client)
    assert "startIndex=3" in str(caught.value)
    assert nvd_ids() == {item["cve"]["id"] for item in items[:3]}
    state = FeedState.objects.get(source="nvd")
    assert state.watermark == f"{FIRST_START}|{END}|3|9"
    assert "startIndex=3" in state.last_error

    server.clear()
    script_nvd(server)
    report = update("nvd", client, NOW + dt.timedelta(minutes=5))
    assert report.records_new == 6
    assert nvd_ids() == {item["cve"]["id"] for item in items}
    first, *_ = server.queries()
    assert (first["startIndex"], first["lastModEndDate"]) == ("3", "2023-10-18T18:30:15.000+00:00")
    state = FeedState.objects.get(source="nvd")
    assert state.watermark == "2023-10-18T18:35:15Z" and state.last_error == ""


def test_kev_update_stores_the_catalogue_once(db, server, feed_urls, client):
    server.add(KEV, Reply(body=kev_catalogue("2025.08.25")))
    report = update("kev", client)
    assert report.evidence_new == 12 and ExploitEvidence.objects.filter(source="kev").count() == 12
    assert FeedState.objects.get(source="kev").watermark == "2025.08.25"
    again = update("kev", client)
    assert again.records_read == 0 and len(server.requests) == 2
    assert FeedState.objects.get(source="kev").last_success is not None


def test_epss_update_stores_the_days_scores_once(db, server, feed_urls, client):
    server.add(EPSS, Reply(body=epss_file()))
    report = update("epss", client)
    assert report.epss_new == 27 and EpssScore.objects.count() == 27
    assert str(EpssScore.objects.get(vuln_id="CVE-1999-0001").date) == "2025-12-26"
    assert FeedState.objects.get(source="epss").watermark == "2025-12-26"
    assert update("epss", client).records_read == 0


def test_jvn_update_stores_details_and_the_newest_update_date(db, server, feed_urls, client, shared_data):
    examples = shared_data / "vuln" / "jvn" / "examples"
    entries = jvn_entries(examples)
    listed = list(entries)
    server.add(MYJVN, Reply(body=jvn_overview(examples, entries, listed, 1, len(listed))), method="getVulnOverviewList")
    server.add(MYJVN, Reply(body=jvn_detail(examples, entries, listed)), method="getVulnDetailInfo")
    report = update("jvn", client)
    assert report.records_new == 7
    assert set(SourceRecord.objects.filter(source="jvn").values_list("source_id", flat=True)) == set(listed)
    assert FeedState.objects.get(source="jvn").watermark == "2025-02-14T14:22:24+09:00"
    assert Vulnerability.objects.filter(vuln_id="CVE-2017-14937").exists()  # linked through the JVN entry


def test_cli_feeds_update_nvd_json(db, server, feed_urls, capsys):
    server.add(NVD, Reply(body=nvd_page(nvd_vulnerabilities()[:3], 0, 3)))
    assert main(["feeds", "update", "nvd", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["failed"] == []
    (report,) = out["updated"]
    assert (report["source"], report["records_new"]) == ("nvd", 3)
    assert len(server.requests) == 1  # one window, one page: no pause
    assert server.requests[0].headers["user-agent"].startswith("ISMP/")
    assert FeedState.objects.get(source="nvd").watermark.endswith("Z")


def test_cli_feeds_update_reports_an_unavailable_feed(db, server, feed_urls, capsys):
    server.add(NVD, Reply(404))
    assert main(["feeds", "update", "nvd", "--json"]) == 69
    out = json.loads(capsys.readouterr().out)
    assert out["updated"] == [] and out["failed"][0]["source"] == "nvd"
    assert "HTTP 404" in out["failed"][0]["error"]
    assert "HTTP 404" in FeedState.objects.get(source="nvd").last_error
