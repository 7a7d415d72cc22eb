"""The browser tier: a real ``ismp serve`` (SQLite in a temporary data directory, demo company loaded)
driven by Playwright on Debian's Chromium (/usr/bin/chromium; never a downloaded browser build)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        reason = "Debian's chromium is not installed (scripts/test installs it as root)"
        if os.environ.get("ISMP_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def live_ismp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("ismp-live")
    env = {k: v for k, v in os.environ.items() if k != "ISMP_DATABASE_URL"}
    env.update(ISMP_DATA_DIR=str(data_dir), ISMP_TASKS_BACKEND="immediate", ISMP_LANGUAGE="ja")
    cli = [sys.executable, "-m", "ismp.cli.main"]
    subprocess.run([*cli, "demo", "--no-serve"], env=env, check=True, capture_output=True, timeout=300)
    port = _free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--no-worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz/", timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        server.kill()
        raise RuntimeError(f"ismp serve did not answer: {server.stderr.read().decode() if server.stderr else ''}")
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def page(chromium_path: str, live_ismp: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="ja-JP", base_url=live_ismp)
        yield context.new_page()
        context.close()
        browser.close()
