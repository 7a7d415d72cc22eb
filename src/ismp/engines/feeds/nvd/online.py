"""Online update of NVD through the CVE API 2.0, by last-modified date.

Each request is ``GET <base URL>?lastModStartDate=…&lastModEndDate=…&startIndex=…&resultsPerPage=2000``
(the ``apiKey`` header when ISMP_NVD_API_KEY is set), and each page becomes one UpdateBatch.

**Windows.** The API refuses lastMod ranges longer than 120 days, so an update walks consecutive windows
of at most 120 days from the watermark up to ``context.now``; a watermark months old (a server that was
off) thus catches up window by window, and each window is paged with ``startIndex``. The first update
(empty watermark) starts 120 days before now: a full mirror is loaded offline first, from NVD's files
(``ismp feeds import nvd …``), and the online update only keeps it current.

**Watermarks.** After the last page of a window the watermark is the window's end,
``2025-03-01T06:00:00Z``: everything modified up to then is stored. After any other page it is
``<window start>|<window end>|<next startIndex>|<totalResults>``, which does not claim the window is
complete: an update interrupted there resumes the same window (same dates) at its next page.

**Changed data.** When a page reports another ``totalResults`` than the window's first page (or than the
page an interrupted update stopped after), NVD changed the window's data while it was being paged: a CVE
modified again leaves the window and shifts the pages after it, so one could be skipped. The window is
then paged again from ``startIndex`` 0 (records are idempotent upserts); after ``context.max_retries``
such restarts of one window the update gives up with FeedUnavailable.

**Rate limits.** NVD allows 5 requests per 30 s without a key and 50 with one, and recommends sleeping
between requests: the update pauses 6 s (0.6 s with a key) before each request but the first, and
retries 403 (NVD's answer when throttled), 429, 5xx, timeouts and dropped connections with backoff,
honouring Retry-After (``kev.online.Fetcher``). A response that is not an API 2.0 CVE page is an
InputError naming the URL and the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from ismp.engines.feeds.base import UpdateBatch, UpdateContext
from ismp.engines.feeds.http import Fetcher, shown_url
from ismp.engines.feeds.nvd.parser import parse_api_page
from ismp.engines.feeds.registry import online_registry
from ismp.errors import FeedUnavailable, InputError

DEFAULT_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"
WINDOW = dt.timedelta(days=120)  # the API's longest lastModStartDate..lastModEndDate range
PAGE_SIZE = 2000  # the API's largest resultsPerPage for CVEs
PAUSE_WITHOUT_KEY = 6.0
PAUSE_WITH_KEY = 0.6
HINT = (
    "NVD throttles and sometimes refuses requests (403, 429, 503); try again later. An API key "
    "(ISMP_NVD_API_KEY) allows ten times as many requests"
)


@dataclass(frozen=True, slots=True)
class Position:
    """Where an update starts: at ``start``, or inside the window ``start``..``end`` at ``index``, whose
    first pages reported ``total`` results."""

    start: dt.datetime
    end: dt.datetime | None = None
    index: int = 0
    total: int | None = None

    @classmethod
    def from_watermark(cls, watermark: str, now: dt.datetime) -> Position:
        if not watermark:
            return cls(now - WINDOW)
        parts = watermark.split("|")
        try:
            if len(parts) == 1:
                return cls(_instant(parts[0]))
            if len(parts) == 4:
                return cls(_instant(parts[0]), _instant(parts[1]), int(parts[2]), int(parts[3]))
        except ValueError:
            pass
        raise InputError(
            f'watermark "{watermark}" is neither a date and time (2025-03-01T06:00:00Z) nor a position '
            "inside a window (start|end|startIndex|totalResults)",
            field="watermark",
        )

    def watermark(self) -> str:
        if self.end is None:
            return stamp(self.start)
        return f"{stamp(self.start)}|{stamp(self.end)}|{self.index}|{self.total}"


def stamp(moment: dt.datetime) -> str:
    """A watermark's form of a moment: UTC, to the second."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _api_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


class NvdOnline:
    """The online feed "nvd"; see the module docstring."""

    name = "nvd"
    default_url = DEFAULT_URL

    def resume_from(self, newest: dt.datetime) -> str | None:
        return stamp(newest)

    def updates(self, client: httpx.Client, context: UpdateContext) -> Iterator[UpdateBatch]:
        now = context.now.astimezone(dt.UTC).replace(microsecond=0)
        position = Position.from_watermark(context.watermark, now)
        fetch = Fetcher(
            client,
            context,
            what=self.name,
            pause=PAUSE_WITH_KEY if context.api_key else PAUSE_WITHOUT_KEY,
            headers={"apiKey": context.api_key} if context.api_key else None,
            hint=HINT,
        )
        while position.start < now:
            end = position.end or min(position.start + WINDOW, now)
            yield from self._window(fetch, context, position.start, end, position.index, position.total)
            position = Position(end)

    def _window(
        self,
        fetch: Fetcher,
        context: UpdateContext,
        start: dt.datetime,
        end: dt.datetime,
        index: int,
        total: int | None,
    ) -> Iterator[UpdateBatch]:
        """The pages of the window ``start``..``end`` from ``index``; paged again from 0 when its totalResults
        changes (``total``: what its first pages reported, None when unknown)."""
        url = context.base_url
        restarts, page = 0, 0
        while True:
            params: dict[str, str | int] = {
                "lastModStartDate": _api_time(start),
                "lastModEndDate": _api_time(end),
                "startIndex": index,
                "resultsPerPage": PAGE_SIZE,
            }
            response = fetch.get(url, params)
            page += 1
            where = f"{shown_url(url, params)} (page {page} of this window)"
            data = parse_api_page(response.content, source=where)
            if data.start_index != index:
                raise InputError(f"startIndex is {data.start_index}; {index} was asked for", file=where)
            if total is not None and data.total_results != total:
                restarts += 1
                if restarts > context.max_retries:
                    raise FeedUnavailable(
                        f"{self.name}: {shown_url(url, params)}: totalResults changed {restarts} times while the "
                        "window was paged (NVD is updating these CVEs)",
                        hint="try again later",
                    )
                index, total = 0, None
                continue
            total = data.total_results
            following = index + len(data.records)
            if following < total and not data.records:
                raise InputError(f"holds no CVE although totalResults is {total}", file=where)
            if following >= total:
                yield UpdateBatch(tuple(data.records), stamp(end))
                return
            yield UpdateBatch(tuple(data.records), Position(start, end, following, total).watermark())
            index = following


online_registry.register("nvd")(NvdOnline())
