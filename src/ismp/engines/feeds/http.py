"""The one place where online feeds talk HTTP.

:class:`Fetcher` takes the caller's client (so tests use a local replay server): it pauses between
requests (rate limits), retries transient failures with exponential backoff, honours ``Retry-After``,
and raises FeedUnavailable naming the URL and the last failure when the retries are spent. The helpers
below it are what several online feeds share: showing a URL without secrets, hashing a download, handing
a downloaded file to a file adapter, and placing an adapter's error at the URL it came from.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from ismp.engines.feeds.base import UpdateContext
from ismp.errors import FeedUnavailable, InputError

# Answers worth asking again: rate limiting (NVD answers 403 when throttled, others 429) and a server
# that is busy or behind a failing gateway. Any other answer that is not 2xx fails at once.
RETRY_STATUSES = frozenset({403, 429, 500, 502, 503, 504})
MAX_WAIT = 600.0  # seconds: no single wait (Retry-After or backoff) is longer
BACKOFF = 2.0  # seconds before the first retry when the server gives no Retry-After; doubled each time
RETRY_HINT = "the server is unreachable, busy or refusing; try again later (ISMP_FEED_URLS overrides the URL)"
STATUS_HINT = "check the feed's URL (ISMP_FEED_URLS) and its parameters"

Params = Mapping[str, str | int]


class Fetcher:
    """GETs for one online update: ``pause`` seconds between consecutive requests, retries with backoff.

    A request is retried on a status in :data:`RETRY_STATUSES` and on transport errors (connection
    refused or dropped, timeouts, a body cut short), at most ``context.max_retries`` times, waiting the
    server's ``Retry-After`` when it gives one, else ``backoff`` seconds doubled at each retry (never less
    than ``pause``, never more than :data:`MAX_WAIT`). Every wait goes through ``context.sleep``.
    """

    def __init__(
        self,
        client: httpx.Client,
        context: UpdateContext,
        *,
        what: str,
        pause: float = 0.0,
        headers: Mapping[str, str] | None = None,
        backoff: float = BACKOFF,
        hint: str = RETRY_HINT,
    ) -> None:
        self.client = client
        self.context = context
        self.what = what  # the feed's name, first word of every message
        self.pause = pause
        self.headers = dict(headers or {})
        self.backoff = backoff
        self.hint = hint
        self.requests = 0  # requests sent so far, retries included

    def get(self, url: str, params: Params | None = None) -> httpx.Response:
        """The response to GET ``url`` when it is 2xx; FeedUnavailable otherwise (after retries)."""
        shown = shown_url(url, params)
        attempts = self.context.max_retries + 1
        problem, wait = "", 0.0
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                self.context.sleep(wait)
            elif self.requests and self.pause:
                self.context.sleep(self.pause)
            self.requests += 1
            outcome = self._attempt(url, params, shown)
            if isinstance(outcome, httpx.Response):
                return outcome
            problem, retry_after = outcome
            wait = min(MAX_WAIT, max(self.pause, retry_after if retry_after is not None else self._backoff(attempt)))
        raise FeedUnavailable(
            f"{self.what}: {shown} still failing after {attempts} attempts; last: {problem}", hint=self.hint
        )

    def _attempt(self, url: str, params: Params | None, shown: str) -> httpx.Response | tuple[str, float | None]:
        """The response, or (what went wrong, the server's Retry-After) when it is worth trying again."""
        try:
            response = self.client.get(url, params=params, headers=self.headers)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise FeedUnavailable(f"{self.what}: {shown} cannot be fetched: {exc}", hint=STATUS_HINT) from exc
        except httpx.TransportError as exc:
            return f"{type(exc).__name__}: {exc}".rstrip(": "), None
        except httpx.RequestError as exc:  # too many redirects, undecodable content
            raise FeedUnavailable(f"{self.what}: {shown}: {type(exc).__name__}: {exc}", hint=STATUS_HINT) from exc
        if response.is_success:
            return response
        problem = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
        message = response.headers.get("message", "")  # NVD explains its refusals in this header
        if message:
            problem += f" ({message[:200]})"
        if response.status_code not in RETRY_STATUSES:
            raise FeedUnavailable(f"{self.what}: {shown} answered {problem}", hint=STATUS_HINT)
        return problem, retry_after(response, self.context.now)

    def _backoff(self, attempt: int) -> float:
        return float(self.backoff * 2.0 ** (attempt - 1))


def retry_after(response: httpx.Response, now: dt.datetime) -> float | None:
    """Seconds the server asks to wait (``Retry-After``: seconds or an HTTP date); None when it says nothing
    usable. An HTTP date is measured from the response's ``Date`` header, else from ``now``."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    reference = _http_date(response.headers.get("Date", "")) or now
    return max(0.0, (when - reference).total_seconds())


def _http_date(value: str) -> dt.datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when


def shown_url(url: str, params: Params | None = None) -> str:
    """The URL with its query, as messages show it (credentials travel in headers, never here)."""
    try:
        return str(httpx.URL(url, params=dict(params) if params else None))
    except httpx.InvalidURL:
        return url


def digest_version(data: bytes) -> str:
    """A watermark for content that carries no version or date of its own."""
    return "sha256:" + hashlib.sha256(data).hexdigest()[:32]


@contextmanager
def downloaded(data: bytes, url: str, default_name: str) -> Iterator[Path]:
    """``data`` written to a temporary file named like the URL's last path segment (for parsers that read
    paths); removed on exit."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", httpx.URL(url).path.rsplit("/", 1)[-1]) or default_name
    with tempfile.TemporaryDirectory(prefix="ismp-feed-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        yield path


def located(exc: InputError, url: str) -> InputError:
    """The same error, naming the URL instead of the temporary file the parser read."""
    return InputError(exc.reason, file=url, line=exc.location.line, field=exc.location.field)
