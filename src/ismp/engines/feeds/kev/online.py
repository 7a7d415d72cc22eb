"""Online update of the CISA KEV catalogue.

``KevOnline`` (the online feed "kev") GETs the whole catalogue JSON and yields it as one batch whose
watermark is the catalogue's ``catalogVersion`` (``2025.08.25``). When that version equals the watermark,
the catalogue has not changed since it was last stored and the update yields nothing.

HTTP (rate limits, retries, Retry-After) is handled by :class:`ismp.engines.feeds.http.Fetcher`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx

from ismp.engines.feeds.base import UpdateBatch, UpdateContext
from ismp.engines.feeds.http import Fetcher, digest_version, downloaded, located
from ismp.engines.feeds.kev.parser import read_kev
from ismp.engines.feeds.registry import online_registry
from ismp.errors import InputError

DEFAULT_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"


class KevOnline:
    """The online feed "kev": the whole catalogue as one batch, watermark = ``catalogVersion``.

    Yields nothing when the downloaded catalogue's ``catalogVersion`` equals the watermark: it is the
    catalogue already stored, so there is nothing to store and the watermark stays as it is.
    """

    name = "kev"
    default_url = DEFAULT_URL

    def resume_from(self, newest: dt.datetime) -> str | None:
        return None  # the watermark is the downloaded file's own version

    def updates(self, client: httpx.Client, context: UpdateContext) -> Iterator[UpdateBatch]:
        response = Fetcher(client, context, what=self.name).get(context.base_url)
        url = str(response.url)
        with downloaded(response.content, url, "known_exploited_vulnerabilities.json") as path:
            try:
                records = tuple(read_kev(path))
            except InputError as exc:
                raise located(exc, url) from exc
        version = records[0].details.get("catalogVersion", "") if records else ""
        version = version or digest_version(response.content)  # the CSV form has no version
        if version == context.watermark:
            return
        yield UpdateBatch(records, version)


online_registry.register("kev")(KevOnline())
