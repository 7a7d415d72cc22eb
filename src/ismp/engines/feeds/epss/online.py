"""Online update of EPSS: FIRST's daily file of every CVE's score, ``epss_scores-current.csv.gz``.

The file (about 300,000 rows) is downloaded whole, then yielded in batches of 50,000 scores. Its score
date (from the ``#model_version:…,score_date:…`` line) is the watermark:

- a file whose score date equals the watermark is the one already stored: the update yields nothing;
- every batch but the last carries ``"<score date>|<scores stored so far>"``, the last one the score date
  alone, so an update interrupted part-way through resumes after the scores already stored when the
  file it downloads next has the same date (and starts again from the top when it is a newer one);
- a file without a score date is identified by a digest of its content instead.

The default URL is the one FIRST links from https://www.first.org/epss/data_stats (the older host
``epss.cyentia.com`` serves the same file); ISMP_FEED_URLS ``{"epss": …}`` points elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import chain, islice

import httpx

from ismp.engines.feeds.base import EpssScore, UpdateBatch, UpdateContext
from ismp.engines.feeds.epss.parser import read_epss
from ismp.engines.feeds.http import Fetcher, digest_version, downloaded, located
from ismp.engines.feeds.registry import online_registry
from ismp.errors import InputError

DEFAULT_URL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
BATCH = 50_000


class EpssOnline:
    """The online feed "epss". Yields nothing when the file's score date equals the watermark."""

    name = "epss"
    default_url = DEFAULT_URL

    def resume_from(self, newest: dt.datetime) -> str | None:
        return None  # the watermark is the downloaded file's own version

    def __init__(self, batch_size: int = BATCH) -> None:
        self.batch_size = batch_size

    def updates(self, client: httpx.Client, context: UpdateContext) -> Iterator[UpdateBatch]:
        response = Fetcher(client, context, what=self.name).get(context.base_url)
        url = str(response.url)
        with downloaded(response.content, url, "epss_scores-current.csv.gz") as path:
            try:
                yield from self._batches(read_epss(path), response.content, context.watermark)
            except InputError as exc:
                raise located(exc, url) from exc

    def _batches(self, scores: Iterator[EpssScore], data: bytes, watermark: str) -> Iterator[UpdateBatch]:
        first = next(scores, None)
        version = first.date.isoformat() if first is not None and first.date else digest_version(data)
        if version == watermark:
            return
        stored_version, _, stored = watermark.partition("|")
        skip = int(stored) if stored_version == version and stored.isdigit() else 0
        rows = islice(chain([first] if first else [], scores), skip, None)
        current = tuple(islice(rows, self.batch_size))
        while True:
            following = tuple(islice(rows, self.batch_size))
            skip += len(current)
            yield UpdateBatch(current, f"{version}|{skip}" if following else version)
            if not following:
                return
            current = following


online_registry.register("epss")(EpssOnline())
