"""Online update of JVN iPedia through the MyJVN API (``https://jvndb.jvn.jp/myjvn``), XML ("hnd") feed.

1. ``getVulnOverviewList`` lists the entries whose last-update date (更新日) lies between the watermark's
   day and today (both in JST, inclusive), 50 at a time: ``startItem``/``maxCountItem``, the next
   ``startItem`` being the status block's ``firstRes + totalResRet``;
2. for each page of that list, ``getVulnDetailInfo`` fetches the full VULDEF entries, 10 ``vulnId`` per
   request (MyJVN's ``retMax`` for that method), and the page's entries are one UpdateBatch. An entry the
   detail responses leave out is stored as the overview gave it.

Request parameters. MyJVN's status block echoes the request's parameters, and its schema
(``status_3.3.xsd``, shipped with the API's examples) documents them: the last-update range is
``datePublishedStartY/M/D`` and ``datePublishedEndY/M/D`` ("Date Last Updated"; MyJVN calls the last
update "datePublished", and ``dateFirstPublished`` the first publication). We assume, as MyJVN's API
documentation describes, that the default one-week ranges (``rangeDatePublic``, ``rangeDatePublished``,
``rangeDateFirstPublished``) must be switched off with ``n`` for explicit dates to apply, that months and
days are plain numbers (``1``–``12``), and that several ``vulnId`` are joined with ``+``. Entries are asked
for in Japanese (``lang=ja``), the complete edition of JVN iPedia.

Watermark: the latest ``DateLastUpdated`` stored, ISO 8601 (``2025-04-04T14:45:58+09:00``), written by the
last batch only. MyJVN does not document the order of its lists (the examples are newest first), so a
page's entries say nothing about the pages not yet read: every batch before the last keeps the previous
watermark, and an interrupted update starts again from the same day (records are idempotent upserts).
The first update (empty watermark) starts 30 days before now; older entries are loaded offline from the
JVNDB data feeds (``ismp feeds import jvn …``).

The update pauses 1 s between requests (MyJVN publishes no rate limit; this keeps it polite) and retries
as every online feed does (``kev.online.Fetcher``). A MyJVN error response (status ``retCd`` ≠ 0) raises
the parser's JvnApiError, an InputError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence

import httpx

from ismp.engines.feeds.base import UpdateBatch, UpdateContext, VulnRecord
from ismp.engines.feeds.http import Fetcher, shown_url
from ismp.engines.feeds.jvn.common import JST
from ismp.engines.feeds.jvn.parser import JvnResponse, parse_response
from ismp.engines.feeds.registry import online_registry
from ismp.errors import InputError

DEFAULT_URL = "https://jvndb.jvn.jp/myjvn"
FIRST_RUN = dt.timedelta(days=30)
PAGE_SIZE = 50  # MyJVN's retMax for getVulnOverviewList
DETAILS_PER_REQUEST = 10  # MyJVN's retMax for getVulnDetailInfo
PAUSE = 1.0
OVERVIEW = "getVulnOverviewList"
DETAIL = "getVulnDetailInfo"


class JvnOnline:
    """The online feed "jvn"; see the module docstring."""

    name = "jvn"
    default_url = DEFAULT_URL

    def resume_from(self, newest: dt.datetime) -> str | None:
        return newest.astimezone(JST).isoformat(timespec="seconds")

    def updates(self, client: httpx.Client, context: UpdateContext) -> Iterator[UpdateBatch]:
        fetch = Fetcher(client, context, what=self.name, pause=PAUSE)
        newest = _watermark_time(context.watermark)
        start = (newest or context.now - FIRST_RUN).astimezone(JST).date()
        end = context.now.astimezone(JST).date()
        item = 1
        while True:
            overview = self._get(fetch, context.base_url, _overview_params(start, end, item), OVERVIEW)
            records = self._details(fetch, context.base_url, overview.records)
            for record in records:
                if record.modified is not None and (newest is None or record.modified > newest):
                    newest = record.modified
            following = overview.next_start_item
            if following is None:
                final = newest.isoformat() if newest else dt.datetime.combine(start, dt.time(), JST).isoformat()
                yield UpdateBatch(records, final)
                return
            if following <= item:
                raise InputError(
                    f"the status block says the next page starts at item {following}, not after {item}",
                    file=shown_url(context.base_url, _overview_params(start, end, item)),
                    field="status.firstRes",
                )
            yield UpdateBatch(records, context.watermark)
            item = following

    def _details(self, fetch: Fetcher, url: str, listed: Sequence[VulnRecord]) -> tuple[VulnRecord, ...]:
        """The full entries of the listed ones, in list order (an entry left out: as listed)."""
        ids = list(dict.fromkeys(record.id for record in listed))
        found: dict[str, VulnRecord] = {}
        for first in range(0, len(ids), DETAILS_PER_REQUEST):
            chunk = ids[first : first + DETAILS_PER_REQUEST]
            params: dict[str, str | int] = {"method": DETAIL, "feed": "hnd", "lang": "ja", "vulnId": "+".join(chunk)}
            for record in self._get(fetch, url, params, DETAIL).records:
                found.setdefault(record.id, record)
        listed_by_id = {record.id: record for record in listed}
        return tuple(found.get(vuln_id, listed_by_id[vuln_id]) for vuln_id in ids)

    def _get(self, fetch: Fetcher, url: str, params: Mapping[str, str | int], method: str) -> JvnResponse:
        response = fetch.get(url, params)
        where = shown_url(url, params)
        parsed = parse_response(response.content, where)
        if parsed.method and parsed.method != method:
            raise InputError(f"is a {parsed.method} response; {method} was asked for", file=where)
        return parsed


def _overview_params(start: dt.date, end: dt.date, item: int) -> dict[str, str | int]:
    return {
        "method": OVERVIEW,
        "feed": "hnd",
        "lang": "ja",
        "rangeDatePublic": "n",
        "rangeDatePublished": "n",
        "rangeDateFirstPublished": "n",
        "datePublishedStartY": start.year,
        "datePublishedStartM": start.month,
        "datePublishedStartD": start.day,
        "datePublishedEndY": end.year,
        "datePublishedEndM": end.month,
        "datePublishedEndD": end.day,
        "startItem": item,
        "maxCountItem": PAGE_SIZE,
    }


def _watermark_time(watermark: str) -> dt.datetime | None:
    if not watermark:
        return None
    try:
        moment = dt.datetime.fromisoformat(watermark)
    except ValueError:
        raise InputError(
            f'watermark "{watermark}" is not a date and time such as 2025-04-04T14:45:58+09:00', field="watermark"
        ) from None
    return moment.replace(tzinfo=JST) if moment.tzinfo is None else moment


online_registry.register("jvn")(JvnOnline())
