"""Running the per-file pipeline over many files, on every core when it pays.

Files are handed out in chunks while discovery is still walking, and results
come back in submission order, so output is identical to a serial run. Small
runs (pre-commit's handful of files) never start a pool: forking costs more
than it saves below a few hundred files.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable, Iterator

from imds_lint.config import Settings
from imds_lint.engine import FileResult, Linter

CHUNK = 256
MIN_FILES_FOR_POOL = 512

_worker_linter: Linter | None = None
_worker_job: tuple[str, bool, bool, bool] | None = None


def _init(settings: Settings, job: tuple[str, bool, bool, bool]) -> None:
    global _worker_linter, _worker_job
    _worker_linter, _worker_job = Linter(settings), job


def _run_one(linter: Linter, job: tuple[str, bool, bool, bool], path: str, display: str) -> FileResult:
    mode, unsafe, write, through_links = job
    try:
        if mode == "fix":
            return linter.fix_file(path, display, unsafe=unsafe, write=write, through_links=through_links)
        return linter.lint_file(path, display)
    except Exception as exc:  # one file's crash is that file's problem, not the run's
        from imds_lint.model import ScanError

        result = FileResult(display, scanned=True)
        result.errors.append(ScanError(display, f"internal error ({type(exc).__name__}: {exc}); file skipped"))
        return result


def _run_chunk(chunk: list[tuple[str, str]]) -> list[FileResult | bool]:
    """Results of a chunk; a file with nothing to report travels back as its ``scanned`` flag only.

    Pickling 18,000 empty results costs more than reading the files they describe.
    """
    assert _worker_linter is not None and _worker_job is not None
    out: list[FileResult | bool] = []
    for path, display in chunk:
        result = _run_one(_worker_linter, _worker_job, path, display)
        quiet = not result.findings and not result.errors and result.fixed is None and not result.fixes_applied
        out.append(result.scanned if quiet else result)
    return out


def _expand(item: FileResult | bool, display: str) -> FileResult:
    return item if isinstance(item, FileResult) else FileResult(display, scanned=item)


def workers_for_this_machine() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def run(
    settings: Settings,
    items: Iterable,
    job: tuple[str, bool, bool, bool],
    on_other: Callable[[object], None],
    workers: int | None = None,
) -> Iterator[FileResult]:
    """Yield a FileResult per candidate in ``items``; other items go to ``on_other``.

    ``job`` is ("lint" | "fix", unsafe, write, through_links).
    """
    from imds_lint.discovery import Candidate

    workers = workers or workers_for_this_machine()
    pending: list[tuple[str, str]] = []
    linter = Linter(settings)
    iterator = iter(items)
    # Serial until the run proves big enough to pay for a pool.
    for item in iterator:
        if not isinstance(item, Candidate):
            on_other(item)
            continue
        pending.append((item.path, item.display))
        if workers > 1 and len(pending) >= MIN_FILES_FOR_POOL:
            break
    else:
        for path, display in pending:
            yield _run_one(linter, job, path, display)
        return
    yield from _pooled(settings, job, workers, pending, iterator, on_other)


def _pooled(settings, job, workers, pending, iterator, on_other) -> Iterator[FileResult]:
    from concurrent.futures import ProcessPoolExecutor  # only big runs pay for multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    from imds_lint.discovery import Candidate

    futures = []
    with ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(settings, job)) as pool:
        for start in range(0, len(pending), CHUNK):
            chunk = pending[start:start + CHUNK]
            futures.append((pool.submit(_run_chunk, chunk), chunk))
        chunk = []
        for item in iterator:
            if not isinstance(item, Candidate):
                on_other(item)
                continue
            chunk.append((item.path, item.display))
            if len(chunk) >= CHUNK:
                futures.append((pool.submit(_run_chunk, chunk), chunk))
                chunk = []
        if chunk:
            futures.append((pool.submit(_run_chunk, chunk), chunk))
        broken = False
        for future, sent in futures:
            if not broken:
                try:
                    items = future.result()
                except BrokenProcessPool:
                    broken = True
            if broken:
                # A worker died (a native parser crashing, say): find the file that does it.
                items = list(_isolate(settings, job, sent))
            for item, (_, display) in zip(items, sent):
                yield _expand(item, display)


def _isolate(settings, job, files: list[tuple[str, str]]):
    """Run files one at a time in a single-worker pool; a file that kills its worker is reported."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from imds_lint.model import ScanError

    pool = ProcessPoolExecutor(max_workers=1, initializer=_init, initargs=(settings, job))
    try:
        for path, display in files:
            try:
                yield pool.submit(_run_chunk, [(path, display)]).result()[0]
            except BrokenProcessPool:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = ProcessPoolExecutor(max_workers=1, initializer=_init, initargs=(settings, job))
                result = FileResult(display, scanned=True)
                result.errors.append(ScanError(display, "the worker process crashed on this file; file skipped "
                                                        "(please report it)"))
                yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
