"""A replay HTTP server for online-feed tests: scripted, canned responses on 127.0.0.1.

    with ReplayServer() as server:           # a fixture does this; the server stops when the test ends
        server.add("/cves", Reply(body=page0), startIndex="0")
        server.add("/cves", Reply(503, headers={"Retry-After": "7"}), Reply(body=page1), startIndex="3")
        client.get(server.url + "/cves", params={"startIndex": 3})   # 503, then page1 (repeated after)
        server.requests                      # every request received: path, query, headers

A rule matches a request by its path and the query parameters it names (others are ignored); the first
rule added that matches answers. Its replies are served in order and the last one repeats. A request no
rule matches is answered 404 (and recorded), so a test sees what it did not expect.

A reply can wait before answering (``delay``: a client whose timeout is shorter times out), send only the
first ``cut`` bytes of its body and then close the connection (after ``delay``, when both are given: a
stall in the middle of the body), or close the connection without answering (``Reply.disconnect()``).
The server listens on loopback only, on a free port, serves each request in a thread, and contacts
nothing itself.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (or, with cut, before closing mid-body)
    cut: int | None = None  # send only this many body bytes, then close the connection
    answer: bool = True  # False: close the connection without answering

    @classmethod
    def disconnect(cls) -> Reply:
        return cls(answer=False)


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case


@dataclass
class Rule:
    path: str
    query: dict[str, str]
    replies: list[Reply]
    served: int = 0

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return path == self.path and all(query.get(k) == v for k, v in self.query.items())

    def next_reply(self) -> Reply:
        reply = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return reply


class ReplayServer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self.requests: list[Request] = []
        self._stopping = threading.Event()
        self._http = _Server(("127.0.0.1", 0), _Handler)
        self._http.replay = self
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.02,), name="replay", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, path: str, *replies: Reply, **query: str | int) -> Rule:
        """Answer GET ``path`` (with these query parameters) with ``replies``, in order, the last repeating."""
        rule = Rule(path, {k: str(v) for k, v in query.items()}, list(replies) or [Reply()])
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Forget every rule and recorded request (a new script for the next run)."""
        with self._lock:
            self._rules.clear()
            self.requests.clear()

    def queries(self, path: str | None = None) -> list[dict[str, str]]:
        return [r.query for r in self.requests if path is None or r.path == path]

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stopping.set()  # wakes handlers that are waiting out a delay
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    def _answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            for rule in self._rules:
                if rule.matches(request.path, request.query):
                    return rule.next_reply()
        return Reply(404, f"replay: no rule for {request.path} {request.query}".encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    replay: ReplayServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # clients that time out or hang up are part of the script


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in self.headers.items()}
        replay = self.server.replay
        reply = replay._answer(Request(parts.path, query, headers))
        self.close_connection = True
        if not reply.answer:
            return
        if reply.delay and reply.cut is None and replay._stopping.wait(reply.delay):
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body if reply.cut is None else reply.body[: reply.cut])
            self.wfile.flush()
            if reply.cut is not None and reply.delay:
                replay._stopping.wait(reply.delay)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        return None


# --------------------------------------------------------------- responses built from the real samples
# tests/fixtures/feeds/online/README.md says where each sample comes from.

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "feeds" / "online"


def nvd_vulnerabilities() -> list[dict[str, Any]]:
    """12 real CVE items of an NVD API 2.0 page."""
    return json.loads((FIXTURES / "nvd_cves_page_12.json").read_bytes())["vulnerabilities"]


def nvd_page(vulnerabilities: list[dict[str, Any]], start: int, total: int) -> bytes:
    """An API 2.0 CVE page holding ``vulnerabilities``, the header consistent with them."""
    page = {
        "resultsPerPage": len(vulnerabilities),
        "startIndex": start,
        "totalResults": total,
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2023-10-18T18:04:18.493",
        "vulnerabilities": vulnerabilities,
    }
    return json.dumps(page).encode()


def nvd_pages(vulnerabilities: list[dict[str, Any]], size: int) -> dict[int, bytes]:
    """startIndex → page, pages of ``size`` items."""
    total = len(vulnerabilities)
    return {i: nvd_page(vulnerabilities[i : i + size], i, total) for i in range(0, max(total, 1), size)}


def kev_catalogue(version: str = "2025.08.25") -> bytes:
    catalogue = json.loads((FIXTURES / "known_exploited_vulnerabilities_excerpt.json").read_bytes())
    catalogue["catalogVersion"] = version
    return json.dumps(catalogue).encode()


def epss_file() -> bytes:
    """The official daily file's layout, gzip, as FIRST serves ``epss_scores-current.csv.gz``."""
    return gzip.compress((FIXTURES / "epss_scores-current_excerpt.csv").read_bytes())


# JVN iPedia content is not committed: responses are built from the MyJVN examples in ../shared/data.
_STATUS = re.compile(rb"<status:Status\b.*?/>", re.S)
_VULINFO = re.compile(rb"\s*<Vulinfo>.*?</Vulinfo>", re.S)


def jvn_entries(examples: Path) -> dict[str, bytes]:
    """JVNDB id → its real ``<Vulinfo>`` element, from the MyJVN detail data feed example."""
    data = (examples / "hnd" / "dataFeed_jvndb_detail_hnd.xml").read_bytes()
    entries = {}
    for match in _VULINFO.finditer(data):
        vuln_id = re.search(rb"<VulinfoID>([^<]+)</VulinfoID>", match.group(0))
        assert vuln_id is not None
        entries[vuln_id.group(1).decode()] = match.group(0)
    return entries


def _status(method: str, total: int, returned: int, first: int, extra: str = "") -> bytes:
    ret_max = 10 if method == "getVulnDetailInfo" else 50
    return (
        f'<status:Status version="3.3" method="{method}" lang="ja" retCd="0" retMax="{ret_max}" errCd="" errMsg="" '
        f'totalRes="{total}" totalResRet="{returned}" firstRes="{first}" feed="hnd" {extra}/>'
    ).encode()


def jvn_detail(examples: Path, entries: dict[str, bytes], ids: Iterable[str]) -> bytes:
    """A getVulnDetailInfo response holding the real entries of ``ids``, framed like the MyJVN example."""
    template = (examples / "hnd" / "getVulnDetailInfo_hnd_JVNDB-2017-009608.xml").read_bytes()
    chosen = [entries[i] for i in ids]
    start, end = template.index(b"\n  <Vulinfo>"), template.index(b"</Vulinfo>") + len(b"</Vulinfo>")
    body = template[:start] + b"".join(chosen) + template[end:]
    status = _status("getVulnDetailInfo", len(chosen), len(chosen), 1, f'vulnId="{"+".join(ids)}" ')
    return _STATUS.sub(lambda _: status, body)


def jvn_overview(examples: Path, entries: dict[str, bytes], ids: list[str], first: int, total: int) -> bytes:
    """A getVulnOverviewList page (JVNRSS) listing ``ids``: the real response's frame, one ``<item>`` per
    entry with the id, title and dates of its real ``<Vulinfo>``."""
    template = (examples / "hnd" / "getVulnOverviewList_hnd.xml").read_bytes()
    items = []
    for vuln_id in ids:
        entry = entries[vuln_id]

        def text(tag: bytes, entry: bytes = entry) -> bytes:
            found = re.search(rb"<" + tag + rb">([^<]*)</" + tag + rb">", entry)
            return found.group(1) if found else b""

        link = f"https://jvndb.jvn.jp/ja/contents/{vuln_id[6:10]}/{vuln_id}.html".encode()
        items.append(
            b'\n  <item rdf:about="' + link + b'">\n    <title>' + text(b"Title") + b"</title>\n    <link>" + link
            + b"</link>\n    <sec:identifier>" + vuln_id.encode() + b"</sec:identifier>\n    <dcterms:issued>"
            + text(b"DateFirstPublished") + b"</dcterms:issued>\n    <dcterms:modified>" + text(b"DateLastUpdated")
            + b"</dcterms:modified>\n  </item>"
        )  # fmt: skip
    start, end = template.index(b"\n  <item "), template.rindex(b"</item>") + len(b"</item>")
    body = template[:start] + b"".join(items) + template[end:]
    return _STATUS.sub(lambda _: _status("getVulnOverviewList", total, len(ids), first), body)
