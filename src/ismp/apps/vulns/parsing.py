"""Reading feed files for an import, in child processes where the platform allows it.

Parsing is the slow half of a feed import (NVD 2002–2017: about 110,000 records and 1.2 million CPE
criteria). Each file is parsed in a forked child process that sends its records back in batches through
a bounded queue, while the importing process stores the previous batch or file: parsing and writing run
on two cores, and memory stays bounded by the queue. Vulnerability records travel already encoded
(msgspec JSON, the form they are stored in), so the importer decodes only the new and changed ones.

Children never touch the database; they run the same pure adapter code as an in-process read, which is
used where ``fork`` is unavailable.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue as queue_module
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import msgspec

from ismp.engines.feeds.base import EpssScore, ExploitRecord, FeedRecord, VulnRecord
from ismp.engines.feeds.registry import registry
from ismp.errors import InputError, IsmpError

BATCH = 2000
QUEUE_BATCHES = 4  # batches a child may run ahead of the importer
AHEAD = 2  # files parsed at once
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Encoded:
    """A vulnerability record as stored: its key, its modification time and its JSON."""

    source: str
    id: str
    modified: dt.datetime | None
    data: bytes


Item = Encoded | ExploitRecord | EpssScore


def encode(record: FeedRecord) -> Item:
    if isinstance(record, VulnRecord):
        return Encoded(record.source, record.id, record.modified, _encoder.encode(record))
    return record


def batches(records: Iterator[FeedRecord]) -> Iterator[list[Item]]:
    items = (encode(r) for r in records)
    while batch := list(islice(items, BATCH)):
        yield batch


def _child(source: str, path: Path, out: Any) -> None:
    try:
        for batch in batches(registry.get(source).read(path)):
            out.put(("batch", batch))
        out.put(("done", None))
    except InputError as exc:
        where = exc.location
        out.put(("input-error", (exc.reason, where.file, where.line, where.field)))
    except Exception as exc:  # noqa: BLE001 - reported to the importer, which raises it
        out.put(("error", str(exc) if isinstance(exc, IsmpError) else f"{type(exc).__name__}: {exc}"))


def _received(path: Path, process: BaseProcess, inbox: Any) -> Iterator[list[Item]]:
    while True:
        try:
            kind, payload = inbox.get(timeout=1.0)
        except queue_module.Empty:
            if not process.is_alive():
                raise IsmpError(
                    f"{path.name}: the parser stopped unexpectedly (exit code {process.exitcode})",
                    hint="the machine may be short of memory; try again with fewer files at once",
                ) from None
            continue
        if kind == "batch":
            yield payload
        elif kind == "done":
            return
        elif kind == "input-error":
            reason, file, line, field = payload
            raise InputError(reason, file=file, line=line, field=field)
        else:
            raise IsmpError(f"{path.name}: {payload}")


def parsed_files(source: str, paths: Sequence[Path]) -> Iterator[tuple[Path, Iterator[list[Item]]]]:
    """(path, its batches) in order; later files are already being parsed while a file is consumed.
    ``source`` must be registered (the caller checks, so that the error names it before any child starts)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        for path in paths:
            yield path, batches(registry.get(source).read(path))
        return
    context = multiprocessing.get_context("fork")
    running: list[tuple[Path, BaseProcess, Any]] = []
    pending = list(paths)
    try:
        while pending or running:
            while pending and len(running) < AHEAD:
                path = pending.pop(0)
                inbox = context.Queue(maxsize=QUEUE_BATCHES)
                process: BaseProcess = context.Process(target=_child, args=(source, path, inbox), daemon=True)
                process.start()
                running.append((path, process, inbox))
            path, current, inbox = running[0]
            yield path, _received(path, current, inbox)
            running.pop(0)
            current.join(timeout=5)
    finally:  # the importer stopped (an error, or it is done): no child outlives it
        for _, process, _ in running:
            if process.is_alive():
                process.terminate()
