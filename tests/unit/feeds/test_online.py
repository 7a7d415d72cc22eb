"""Online updates of nvd, kev, epss and jvn against a local replay server, with a real httpx.Client and a
fake sleep: paging, windows, watermarks, rate-limit pauses, retries, timeouts, changed data, errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ismp.engines.feeds.base import EpssScore, ExploitRecord, OnlineFeed, UpdateBatch, UpdateContext
from ismp.engines.feeds.epss.online import EpssOnline
from ismp.engines.feeds.http import retry_after
from ismp.engines.feeds.jvn import JvnApiError
from ismp.engines.feeds.registry import online_registry
from ismp.errors import FeedUnavailable, InputError
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

NOW = dt.datetime(2023, 10, 18, 18, 30, 15, 123456, tzinfo=dt.UTC)
END = "2023-10-18T18:30:15Z"  # NOW as a watermark (to the second)
START = "2023-10-17T00:00:00Z"
NVD = "/rest/json/cves/2.0"
JST = dt.timezone(dt.timedelta(hours=9))


class Sleeps(list[float]):
    """A fake ``sleep`` that records what it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        yield replay


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=0.3) as http:  # short, so that the server's delays time out
        yield http


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def run(
    source: str | OnlineFeed,
    client: httpx.Client,
    url: str,
    sleeps: Sleeps,
    watermark: str = "",
    *,
    api_key: str = "",
    max_retries: int = 3,
) -> list[UpdateBatch]:
    feed = online_registry.get(source) if isinstance(source, str) else source
    context = UpdateContext(watermark, NOW, url, api_key=api_key, sleep=sleeps, max_retries=max_retries)
    return list(feed.updates(client, context))


def ids(batch: UpdateBatch) -> list[str]:
    return [getattr(r, "id", getattr(r, "cve", "")) for r in batch.records]


def script_nvd(server: ReplayServer, count: int = 9, size: int = 3) -> list[str]:
    items = nvd_vulnerabilities()[:count]
    for start, page in nvd_pages(items, size).items():
        server.add(NVD, Reply(body=page), startIndex=start)
    return [item["cve"]["id"] for item in items]


def test_every_online_source_is_registered():
    assert online_registry.names() == ["epss", "jvn", "kev", "nvd"]
    for name in online_registry.names():
        feed = online_registry.get(name)
        assert feed.name == name and feed.default_url.startswith("https://")


# ------------------------------------------------------------------------------------------------ nvd


def test_nvd_pages_a_window_with_a_watermark_per_page(server, client, sleeps):
    expected = script_nvd(server)
    batches = run("nvd", client, server.url + NVD, sleeps, START)
    assert [ids(b) for b in batches] == [expected[0:3], expected[3:6], expected[6:9]]
    assert [b.watermark for b in batches] == [f"{START}|{END}|3|9", f"{START}|{END}|6|9", END]
    queries = server.queries(NVD)
    assert [q["startIndex"] for q in queries] == ["0", "3", "6"]
    assert {(q["lastModStartDate"], q["lastModEndDate"], q["resultsPerPage"]) for q in queries} == {
        ("2023-10-17T00:00:00.000+00:00", "2023-10-18T18:30:15.000+00:00", "2000")
    }
    assert sleeps == [6.0, 6.0]  # NVD's pause between requests without a key, none before the first
    assert all("apikey" not in r.headers for r in server.requests)


def test_nvd_sends_the_api_key_header_and_pauses_less(server, client, sleeps):
    script_nvd(server)
    run("nvd", client, server.url + NVD, sleeps, START, api_key="k3y")
    assert [r.headers.get("apikey") for r in server.requests] == ["k3y"] * 3
    assert sleeps == [0.6, 0.6]
    assert all("k3y" not in r.path and "k3y" not in str(r.query) for r in server.requests)


def test_nvd_403_is_retried_after_the_servers_retry_after(server, client, sleeps):
    page = nvd_page(nvd_vulnerabilities()[:2], 0, 2)
    server.add(NVD, Reply(403, headers={"Retry-After": "7", "message": "Request forbidden"}), Reply(body=page))
    (batch,) = run("nvd", client, server.url + NVD, sleeps, START)
    assert len(batch.records) == 2 and batch.watermark == END
    assert len(server.requests) == 2
    assert sleeps == [7.0]


def test_nvd_503_every_time_gives_up_with_feed_unavailable(server, client, sleeps):
    server.add(NVD, Reply(503, headers={"message": "busy"}))
    with pytest.raises(FeedUnavailable) as caught:
        run("nvd", client, server.url + NVD, sleeps, START, max_retries=3)
    message = str(caught.value)
    assert server.url + NVD in message and "startIndex=0" in message
    assert "HTTP 503" in message and "busy" in message and "4 attempts" in message
    assert len(server.requests) == 4
    assert sleeps == [6.0, 6.0, 8.0]  # backoff 2, 4, 8 s, never shorter than the 6 s pause


def test_nvd_timeouts_and_a_dropped_connection_inside_a_page_are_retried(server, client, sleeps):
    items = nvd_vulnerabilities()[:6]
    pages = nvd_pages(items, 3)
    server.add(NVD, Reply(body=pages[0]), startIndex=0)
    server.add(
        NVD,
        Reply(body=pages[3], cut=200, delay=1.0),  # stalls in the middle of the body: read timeout
        Reply(body=pages[3], delay=1.0),  # answers too late: read timeout
        Reply(body=pages[3], cut=500),  # hangs up in the middle of the body
        Reply.disconnect(),  # hangs up without answering
        Reply(body=pages[3]),
        startIndex=3,
    )
    batches = run("nvd", client, server.url + NVD, sleeps, START, max_retries=4)
    assert [len(b.records) for b in batches] == [3, 3] and batches[-1].watermark == END
    assert [q["startIndex"] for q in server.queries()] == ["0", "3", "3", "3", "3", "3"]


def test_nvd_restarts_the_window_when_total_results_changes(server, client, sleeps):
    items = nvd_vulnerabilities()
    # between the first and second page, the second CVE is modified again and leaves the window: every
    # later result moves up one place, so going on at startIndex 3 would skip the fourth CVE
    before, after = items[:9], items[:1] + items[2:9]
    server.add(NVD, Reply(body=nvd_page(before[0:3], 0, 9)), Reply(body=nvd_page(after[0:3], 0, 8)), startIndex=0)
    server.add(NVD, Reply(body=nvd_page(after[3:6], 3, 8)), startIndex=3)
    server.add(NVD, Reply(body=nvd_page(after[6:8], 6, 8)), startIndex=6)
    batches = run("nvd", client, server.url + NVD, sleeps, START)
    assert [q["startIndex"] for q in server.queries()] == ["0", "3", "0", "3", "6"]
    assert [b.watermark for b in batches] == [f"{START}|{END}|3|9", f"{START}|{END}|3|8", f"{START}|{END}|6|8", END]
    stored = [i for b in batches for i in ids(b)]
    assert {item["cve"]["id"] for item in after} <= set(stored)
    assert items[3]["cve"]["id"] in stored


def test_nvd_gives_up_when_total_results_keeps_changing(server, client, sleeps):
    items = nvd_vulnerabilities()
    server.add(NVD, Reply(body=nvd_page(items[0:3], 0, 9)), startIndex=0)
    server.add(NVD, Reply(body=nvd_page(items[3:6], 3, 10)), startIndex=3)
    with pytest.raises(FeedUnavailable, match="totalResults changed 3 times"):
        run("nvd", client, server.url + NVD, sleeps, START, max_retries=2)


def test_nvd_resumes_inside_a_window_from_its_watermark(server, client, sleeps):
    script_nvd(server)
    batches = run("nvd", client, server.url + NVD, sleeps, f"{START}|{END}|6|9")
    assert [b.watermark for b in batches] == [END]
    (query,) = server.queries()
    assert (query["startIndex"], query["lastModStartDate"], query["lastModEndDate"]) == (
        "6",
        "2023-10-17T00:00:00.000+00:00",
        "2023-10-18T18:30:15.000+00:00",
    )


def test_nvd_resuming_a_window_whose_data_changed_pages_it_again(server, client, sleeps):
    expected = script_nvd(server)  # 9 results now
    batches = run("nvd", client, server.url + NVD, sleeps, f"{START}|{END}|6|10")
    assert [q["startIndex"] for q in server.queries()] == ["6", "0", "3", "6"]
    assert [i for b in batches for i in ids(b)] == expected


def test_nvd_walks_120_day_windows_from_an_old_watermark(server, client, sleeps):
    server.add(NVD, Reply(body=nvd_page([], 0, 0)))
    old = NOW - dt.timedelta(days=300)
    batches = run("nvd", client, server.url + NVD, sleeps, old.strftime("%Y-%m-%dT%H:%M:%SZ"))
    windows = [
        (dt.datetime.fromisoformat(q["lastModStartDate"]), dt.datetime.fromisoformat(q["lastModEndDate"]))
        for q in server.queries()
    ]
    assert len(windows) == 3
    assert all(end - start <= dt.timedelta(days=120) for start, end in windows)
    assert windows[0][0] == old.replace(microsecond=0) and windows[-1][1] == NOW.replace(microsecond=0)
    assert all(windows[i][1] == windows[i + 1][0] for i in range(2))  # consecutive, no gap
    assert [b.watermark for b in batches] == [w[1].strftime("%Y-%m-%dT%H:%M:%SZ") for w in windows]
    assert all(not b.records for b in batches)


def test_nvd_first_update_starts_120_days_back(server, client, sleeps):
    server.add(NVD, Reply(body=nvd_page([], 0, 0)))
    (batch,) = run("nvd", client, server.url + NVD, sleeps, "")
    (query,) = server.queries()
    assert query["lastModStartDate"] == "2023-06-20T18:30:15.000+00:00"
    assert batch.watermark == END


def test_nvd_up_to_date_watermark_asks_nothing(server, client, sleeps):
    assert run("nvd", client, server.url + NVD, sleeps, END) == []
    assert server.requests == []


@pytest.mark.parametrize(
    "body",
    [b"<html><body>Service temporarily unavailable</body></html>", b'{"format": "NVD_CVE", "version": "2.0"', b""],
    ids=["html", "truncated-json", "empty"],
)
def test_nvd_malformed_page_is_an_input_error_naming_url_and_page(server, client, sleeps, body):
    items = nvd_vulnerabilities()[:6]
    server.add(NVD, Reply(body=nvd_page(items[:3], 0, 6)), startIndex=0)
    server.add(NVD, Reply(body=body), startIndex=3)
    with pytest.raises(InputError) as caught:
        run("nvd", client, server.url + NVD, sleeps, START)
    assert server.url + NVD in str(caught.value) and "startIndex=3" in str(caught.value)
    assert "page 2" in str(caught.value)


def test_nvd_page_at_another_start_index_is_refused(server, client, sleeps):
    server.add(NVD, Reply(body=nvd_page(nvd_vulnerabilities()[:3], 3, 9)))
    with pytest.raises(InputError, match="startIndex is 3; 0 was asked for"):
        run("nvd", client, server.url + NVD, sleeps, START)


def test_nvd_unknown_url_fails_at_once(server, client, sleeps):
    with pytest.raises(FeedUnavailable, match="HTTP 404"):
        run("nvd", client, server.url + "/nowhere", sleeps, START)
    assert len(server.requests) == 1 and sleeps == []


def test_nvd_unreachable_server_is_feed_unavailable(client, sleeps):
    with ReplayServer() as gone:
        url = gone.url + NVD
    with pytest.raises(FeedUnavailable, match="ConnectError"):
        run("nvd", client, url, sleeps, START, max_retries=1)


def test_a_url_that_cannot_be_fetched_fails_at_once(client, sleeps):
    with pytest.raises(FeedUnavailable, match="ftp://mirror.example.jp/kev.json cannot be fetched"):
        run("kev", client, "ftp://mirror.example.jp/kev.json", sleeps)
    assert sleeps == []


def test_nvd_bad_watermark_is_named(server, client, sleeps):
    with pytest.raises(InputError, match='watermark "yesterday"'):
        run("nvd", client, server.url + NVD, sleeps, "yesterday")


def test_retry_after_as_an_http_date():
    response = httpx.Response(
        503, headers={"Retry-After": "Wed, 18 Oct 2023 18:31:00 GMT", "Date": "Wed, 18 Oct 2023 18:30:40 GMT"}
    )
    assert retry_after(response, NOW) == 20.0
    assert retry_after(httpx.Response(503, headers={"Retry-After": "soon"}), NOW) is None


# ------------------------------------------------------------------------------------------------ kev

KEV = "/sites/default/files/feeds/known_exploited_vulnerabilities.json"


def test_kev_new_catalogue_is_one_batch_with_its_version(server, client, sleeps):
    server.add(KEV, Reply(body=kev_catalogue("2025.08.25"), headers={"Content-Type": "application/json"}))
    (batch,) = run("kev", client, server.url + KEV, sleeps, "2025.08.22")
    assert batch.watermark == "2025.08.25" and len(batch.records) == 12
    assert all(isinstance(r, ExploitRecord) and r.source == "kev" for r in batch.records)
    assert batch.records[0].cve == "CVE-2025-48384"


def test_kev_unchanged_catalogue_yields_nothing(server, client, sleeps):
    server.add(KEV, Reply(body=kev_catalogue("2025.08.25")))
    assert run("kev", client, server.url + KEV, sleeps, "2025.08.25") == []
    assert len(server.requests) == 1


def test_kev_retries_then_reads(server, client, sleeps):
    server.add(KEV, Reply(429, headers={"Retry-After": "3"}), Reply(502), Reply(body=kev_catalogue()))
    (batch,) = run("kev", client, server.url + KEV, sleeps)
    assert len(batch.records) == 12 and sleeps == [3.0, 4.0]


def test_kev_malformed_catalogue_names_the_url(server, client, sleeps):
    server.add(KEV, Reply(body=b'{"title": "not the catalogue"}'))
    with pytest.raises(InputError) as caught:
        run("kev", client, server.url + KEV, sleeps)
    assert str(caught.value).startswith(server.url + KEV) and "catalogVersion" in str(caught.value)


# ----------------------------------------------------------------------------------------------- epss

EPSS = "/epss_scores-current.csv.gz"


def test_epss_scores_in_batches_and_resumable(server, client, sleeps):
    server.add(EPSS, Reply(body=epss_file(), headers={"Content-Type": "application/gzip"}))
    feed = EpssOnline(batch_size=10)
    batches = run(feed, client, server.url + EPSS, sleeps, "2025-12-20")
    assert [len(b.records) for b in batches] == [10, 10, 7]
    assert [b.watermark for b in batches] == ["2025-12-26|10", "2025-12-26|20", "2025-12-26"]
    assert all(isinstance(s, EpssScore) and s.date == dt.date(2025, 12, 26) for b in batches for s in b.records)
    # interrupted after the second batch: the next update of the same file stores only the rest
    (rest,) = run(feed, client, server.url + EPSS, sleeps, "2025-12-26|20")
    assert rest.records == batches[2].records and rest.watermark == "2025-12-26"
    # a newer file after an interrupted older one starts from the top
    assert len(run(feed, client, server.url + EPSS, sleeps, "2025-12-25|20")) == 3


def test_epss_same_score_date_yields_nothing(server, client, sleeps):
    server.add(EPSS, Reply(body=epss_file()))
    assert run("epss", client, server.url + EPSS, sleeps, "2025-12-26") == []


def test_epss_registered_feed_keeps_a_day_in_one_batch(server, client, sleeps):
    server.add(EPSS, Reply(body=epss_file()))
    (batch,) = run("epss", client, server.url + EPSS, sleeps)
    assert len(batch.records) == 27 and batch.watermark == "2025-12-26"


def test_epss_damaged_file_names_the_url(server, client, sleeps):
    server.add(EPSS, Reply(body=epss_file()[:-40]))  # gzip cut short
    with pytest.raises(InputError) as caught:
        run("epss", client, server.url + EPSS, sleeps)
    assert str(caught.value).startswith(server.url + EPSS)


# ------------------------------------------------------------------------------------------------ jvn

MYJVN = "/myjvn"


@pytest.fixture
def examples(shared_data: Path) -> Path:
    return shared_data / "vuln" / "jvn" / "examples"


def script_jvn(server: ReplayServer, examples: Path, skip_detail: str = "") -> list[str]:
    """7 real entries listed 5 + 2, their details fetched per page."""
    entries = jvn_entries(examples)
    listed = list(entries)
    for first, chunk in ((1, listed[:5]), (6, listed[5:])):
        page = jvn_overview(examples, entries, chunk, first, len(listed))
        server.add(MYJVN, Reply(body=page), method="getVulnOverviewList", startItem=first)
        detailed = [i for i in chunk if i != skip_detail]
        detail = jvn_detail(examples, entries, detailed)
        server.add(MYJVN, Reply(body=detail), method="getVulnDetailInfo", vulnId="+".join(chunk))
    return listed


def test_jvn_lists_changes_since_the_watermark_and_fetches_details(server, client, sleeps, examples):
    listed = script_jvn(server, examples)
    batches = run("jvn", client, server.url + MYJVN, sleeps, "2025-01-06T10:00:00+09:00")
    assert [ids(b) for b in batches] == [listed[:5], listed[5:]]
    # the newest DateLastUpdated among the stored entries, written by the last batch only
    assert [b.watermark for b in batches] == ["2025-01-06T10:00:00+09:00", "2025-02-14T14:22:24+09:00"]
    assert all(r.source == "jvn" and r.descriptions.get("ja") for b in batches for r in b.records)
    methods = [(q["method"], q.get("startItem"), q.get("vulnId", "").count("+") + 1) for q in server.queries()]
    assert methods == [
        ("getVulnOverviewList", "1", 1),
        ("getVulnDetailInfo", None, 5),
        ("getVulnOverviewList", "6", 1),
        ("getVulnDetailInfo", None, 2),
    ]
    overview = server.queries()[0]
    assert {k: overview[k] for k in overview if k.startswith(("date", "range", "max", "feed"))} == {
        "feed": "hnd",
        "rangeDatePublic": "n",
        "rangeDatePublished": "n",
        "rangeDateFirstPublished": "n",
        "datePublishedStartY": "2025",
        "datePublishedStartM": "1",
        "datePublishedStartD": "6",
        "datePublishedEndY": "2023",  # NOW is in 2023: the test's clock, not a sensible range
        "datePublishedEndM": "10",
        "datePublishedEndD": "19",  # 18:30 UTC is the 19th in Japan
        "maxCountItem": "50",
    }
    assert sleeps == [1.0, 1.0, 1.0]


def test_jvn_first_update_starts_30_days_back(server, client, sleeps, examples):
    script_jvn(server, examples)
    run("jvn", client, server.url + MYJVN, sleeps, "")
    start = server.queries()[0]
    assert (start["datePublishedStartY"], start["datePublishedStartM"], start["datePublishedStartD"]) == (
        "2023",
        "9",
        "19",
    )


def test_jvn_entry_without_details_is_stored_as_listed(server, client, sleeps, examples):
    listed = script_jvn(server, examples, skip_detail="JVNDB-2025-000002")
    batches = run("jvn", client, server.url + MYJVN, sleeps, "2025-01-06T10:00:00+09:00")
    records = {r.id: r for b in batches for r in b.records}
    assert list(records) == listed
    assert not records["JVNDB-2025-000002"].affected and records["JVNDB-2025-000001"].affected


def test_jvn_error_response_raises_the_parsers_api_error(server, client, sleeps, fixtures):
    error = (fixtures / "feeds" / "jvn" / "error-response_hnd.xml").read_bytes()
    server.add(MYJVN, Reply(body=error))
    with pytest.raises(JvnApiError) as caught:
        run("jvn", client, server.url + MYJVN, sleeps, "2025-01-06T10:00:00+09:00")
    assert isinstance(caught.value, InputError) and server.url + MYJVN in str(caught.value)


def test_jvn_retries_like_every_feed(server, client, sleeps, examples):
    entries = jvn_entries(examples)
    one = list(entries)[:1]
    server.add(
        MYJVN,
        Reply(503),
        Reply(body=jvn_overview(examples, entries, one, 1, 1)),
        method="getVulnOverviewList",
    )
    server.add(MYJVN, Reply.disconnect(), Reply(body=jvn_detail(examples, entries, one)), method="getVulnDetailInfo")
    (batch,) = run("jvn", client, server.url + MYJVN, sleeps, "2025-01-06T10:00:00+09:00")
    assert ids(batch) == one and batch.watermark == "2025-01-08T12:16:23+09:00"
    assert sleeps == [2.0, 1.0, 2.0]  # backoff, pause, backoff
