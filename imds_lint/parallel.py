"""Running the per-file pipeline over many files, on every core when it pays.

Small runs (pre-commit's handful of files) never start a pool: forking costs
more than it saves below a few hundred files. A large run uses N processes in
all: the main process walks, and N-1 workers run the pipeline on chunks of
files. When the workers have enough queued, the main process screens a chunk
itself (read and prefilter: ~99% of a repository ends there) and sends on only
the files a front-end must see. Parsing, the part a native parser can crash,
always runs in a worker; front-ends are imported once per worker, and on two
cores there is one. Results come back in walk order, so output is identical
to a serial run.
"""

from __future__ import annotations

import functools
import os
from collections import deque

from imds_lint import screening
from imds_lint.config import Settings
from imds_lint.screening import FileResult

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from typing import Callable, Iterable, Iterator

    from imds_lint.engine import Linter

CHUNK = 256
MIN_FILES_FOR_POOL = 512
# Chunks queued per worker before the main process starts screening chunks itself.
QUEUED_PER_WORKER = 2
# When more than this share of the files the main process screens needs a front-end, the
# workers are the critical path and the main process mostly waits: one more worker joins
# (on two cores: both busy parsing). Below it (a typical repository, ~1%) the extra process
# and its imports cost more than they save.
DENSE_CANDIDATES = 0.05
DENSITY_SAMPLE_CHUNKS = 2
# Once candidates are dense, the main process screens nothing (a worker reads and screens each
# file anyway) and waits while this many chunks per worker are in flight.
IN_FLIGHT_WHEN_DENSE = 4

_worker_linter: Linter | None = None
_worker_job: tuple[str, bool, bool, bool] | None = None


def tune_collector() -> None:
    """Rarer full garbage collections, for the command and its workers (not for library callers).

    A full collection walks every live object, and a large file keeps many alive
    (trees, texts, findings): with the default thresholds a user-data file of N
    MIME parts paid ~N/300 full collections of a heap of size N (22% of a
    4,000-part --diff, more with more parts), while collecting nothing. Young
    generations keep their thresholds: IaC front-ends do make short-lived cycles
    (an HCL file and its blocks), and collecting those late held every parsed
    tree alive (37 -> 140 MB on the IaC tree at a threshold of 100,000). What
    exists at start-up is frozen out of collections altogether.
    """
    import gc

    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)
    gc.enable()


_collector_paused = False
# Files the main process lints before the collector it paused at start-up resumes.
START_UP_FILES = 16


def pause_collector() -> None:
    """The command starts with the collector off, until its first files are linted.

    Importing the engine, a front-end and the rule catalog allocates enough to run
    ~20 collections that find no garbage (~2.5 ms of a 40 ms pre-commit run with
    findings). A few files make few cycles (a 5 MB script or a 2 MB Terraform file
    peaks at the same RSS with the collector off); the run's later files, and the
    workers, collect as tuned (``tune_collector``).
    """
    global _collector_paused
    import gc

    gc.disable()
    _collector_paused = True


def _resume_collector() -> None:
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        tune_collector()


def _init(settings: Settings, job: tuple[str, bool, bool, bool], cache=None) -> None:
    import signal

    tune_collector()
    # Ctrl-C reaches the whole process group: the main process stops the run and its workers,
    # so a worker's own KeyboardInterrupt would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the main process's handler, inherited by fork
    _die_with_parent()
    from imds_lint.engine import Linter

    global _worker_linter, _worker_job
    _worker_linter, _worker_job = Linter(settings, cache), job


def _die_with_parent() -> None:
    """On Linux, a worker gets SIGTERM when the main process dies, however it dies (SIGKILL
    included): an orphaned worker would wait on its queue forever."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        parent = os.getppid()
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the call
            os._exit(1)
    except (OSError, AttributeError):
        pass


class _Stop:
    """SIGTERM in the main process while a pool runs: raised as KeyboardInterrupt, so the pool's
    workers are ended (not waited for) and the run says it was interrupted."""

    def __enter__(self):
        import signal
        import threading

        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt

    def __exit__(self, *exc):
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


class _LazyLinter:
    """The main process's Linter, made for the first file that needs a front-end: importing the
    engine, its front-ends and the rule catalog is most of a pre-commit run that finds nothing."""

    def __init__(self, settings: Settings, cache=None):
        self.settings = settings
        self.cache = cache
        self._linter: Linter | None = None

    @property
    def loaded(self) -> bool:
        return self._linter is not None

    def get(self) -> Linter:
        if self._linter is None:
            from imds_lint.engine import Linter

            self._linter = Linter(self.settings, _probed(self.cache))
        return self._linter


class _WarmStart:
    """Screening that also answers from the results cache, before the engine is loaded: a
    pre-commit run whose candidates are all cached never imports the engine, the front-ends,
    the parsers or the rule catalog."""

    def __init__(self, settings: Settings, cache):
        self.settings, self.cache = settings, cache
        self._index = self._print = None

    def screen(self, path: str, display: str) -> FileResult | None:
        try:
            result = FileResult(display)
            loaded = screening.load(path, result, self.settings.max_file_size)
        except Exception as exc:
            return _internal_error(display, exc)
        if loaded is None:
            return result
        try:
            from imds_lint import cache
            from imds_lint.project import relative_to_root

            if self._index is None:
                from imds_lint.project import forget_real_paths
                from imds_lint.project_index import ProjectIndex, forget_groups

                forget_real_paths()  # as a Linter does: a new run, links made since count
                forget_groups()
                self._index = ProjectIndex.for_settings(self.settings)
                self._print = cache.settings_fingerprint(self.settings)
            _, stored = cache.lookup(self.cache, self._print, self._index, str(path), display,
                                     relative_to_root(str(path), self.settings.root), loaded[0].raw)
        except Exception:  # the cache can only spare work: on any trouble the engine lints the file
            return None
        if stored is None:
            return None
        from imds_lint.model import ScanError

        findings, notes, dialect = stored
        result.findings = findings
        result.errors.extend(ScanError(display, n) for n in notes)
        if dialect is not None:
            result.kind = dialect
        return result


def _run_one(linter: Linter, job: tuple[str, bool, bool, bool], path: str, display: str) -> FileResult:
    mode, unsafe, write, through_links = job
    try:
        if mode == "fix":
            return linter.fix_file(path, display, unsafe=unsafe, write=write, through_links=through_links)
        return linter.lint_file(path, display)
    except Exception as exc:  # one file's crash is that file's problem, not the run's
        return _internal_error(display, exc)


def _internal_error(display: str, exc: Exception) -> FileResult:
    from imds_lint.model import ScanError

    result = FileResult(display, scanned=True)
    result.errors.append(ScanError(display, f"internal error ({type(exc).__name__}: {exc}); file skipped"))
    return result


def _screen(settings: Settings, path: str, display: str) -> FileResult | None:
    try:
        return screening.screen(path, display, settings.max_file_size)
    except Exception as exc:
        return _internal_error(display, exc)


def _quiet(result: FileResult) -> FileResult | bool:
    """A file with nothing to report travels as its ``scanned`` flag: pickling 18,000 empty results
    costs more than reading the files they describe."""
    quiet = not result.findings and not result.errors and result.fixed is None and not result.fixes_applied
    return result.scanned if quiet else result


def _run_chunk(chunk: list[tuple[str, str]]) -> list[FileResult | bool]:
    assert _worker_linter is not None and _worker_job is not None
    return [_quiet(_run_one(_worker_linter, _worker_job, path, display)) for path, display in chunk]


def _expand(item: FileResult | bool, display: str) -> FileResult:
    return item if isinstance(item, FileResult) else FileResult(display, scanned=item)


def _probed(cache):
    """The results cache once its folder takes entries (made on first use, by the main process
    only); else None, after one note on standard error."""
    if cache is None:
        return None
    problem = cache.probe()
    if problem is None:
        return cache
    import sys

    sys.stderr.write(f"imds-lint: {problem}\n")
    return None


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
    cache=None,
) -> Iterator[FileResult]:
    """Yield a FileResult per candidate in ``items``; other items go to ``on_other``.

    ``job`` is ("lint" | "fix", unsafe, write, through_links); ``workers`` counts
    processes, the main one included; ``cache`` is the results cache (lint runs only).
    """
    from imds_lint.discovery import Candidate

    workers = workers or workers_for_this_machine()
    pending: list[tuple[str, str]] = []
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
        linter = _LazyLinter(settings, cache)
        warm = _WarmStart(settings, cache) if cache is not None and job[0] == "lint" else None
        for done, (path, display) in enumerate(pending):
            if done == START_UP_FILES:
                _resume_collector()
            # Screening only spares the engine's import; once it is loaded, lint_file reads the file
            # itself (screening first would read and decode every candidate twice).
            if linter.loaded:
                settled = None
            elif warm is not None:
                settled = warm.screen(path, display)
            else:
                settled = _screen(settings, path, display)
            yield settled or _run_one(linter.get(), job, path, display)
        _resume_collector()
        return
    cache = _probed(cache)
    warm = _WarmStart(settings, cache) if cache is not None and job[0] == "lint" else None
    _resume_collector()  # before the pool forks: workers start from the tuned collector
    yield from _pooled(settings, job, workers - 1, pending, iterator, on_other, cache,
                       warm.screen if warm is not None else functools.partial(_screen, settings))


class _Batch:
    """One chunk of the walk: results the main process settled, plus a worker's share (``sent``)."""

    __slots__ = ("chunk", "settled", "sent", "future")

    def __init__(self, chunk, settled, sent, future):
        self.chunk, self.settled, self.sent, self.future = chunk, settled, sent, future


def _pooled(settings, job, pool_size, pending, iterator, on_other, cache, screen) -> Iterator[FileResult]:
    """``screen`` settles what the main process can (the prefilter, and the results cache when on)."""
    from concurrent.futures import ProcessPoolExecutor  # only big runs pay for multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    from imds_lint.discovery import Candidate

    batches: deque[_Batch] = deque()
    queued: deque = deque()  # futures not known to be done, oldest first
    broken = False
    pools = [ProcessPoolExecutor(max_workers=pool_size, initializer=_init, initargs=(settings, job, cache))]
    capacity = pool_size
    screened = sent_on = 0
    dense = False

    def submit(chunk: list[tuple[str, str]]):
        # The pool with the least work queued; futures of every pool line up in ``queued``.
        pool = min(pools, key=lambda p: sum(1 for f in queued if f.pool is p and not f.done()))
        future = pool.submit(_run_chunk, chunk)
        future.pool = pool
        queued.append(future)
        return future

    def dispatch(chunk: list[tuple[str, str]]) -> None:
        nonlocal screened, sent_on, capacity, dense
        while queued and queued[0].done():
            queued.popleft()
        if dense or len(queued) < QUEUED_PER_WORKER * capacity:
            batches.append(_Batch(chunk, None, chunk, submit(chunk)))
            return
        # The workers have enough to do: screen this chunk here, pass on what needs parsing.
        settled = [screen(path, display) for path, display in chunk]
        sent = [entry for entry, result in zip(chunk, settled) if result is None]
        screened += len(chunk)
        sent_on += len(sent)
        if screened >= DENSITY_SAMPLE_CHUNKS * CHUNK and sent_on > DENSE_CANDIDATES * screened:
            # Screening here now only reads each file a second time, on a core the workers need.
            dense = True
            if len(pools) == 1:
                pools.append(ProcessPoolExecutor(max_workers=1, initializer=_init, initargs=(settings, job, cache)))
                capacity += 1
        batches.append(_Batch(chunk, settled, sent, submit(sent) if sent else None))

    def wait_for_room() -> None:
        """Dense candidates: the walk waits for a worker instead of queueing the whole tree."""
        from concurrent.futures import FIRST_COMPLETED, wait

        while True:
            running = [f for f in queued if not f.done()]
            if len(running) < IN_FLIGHT_WHEN_DENSE * capacity:
                return
            wait(running, return_when=FIRST_COMPLETED)

    def results(batch: _Batch) -> Iterator[FileResult]:
        nonlocal broken
        items: list = []
        if batch.future is not None:
            if not broken:
                try:
                    items = batch.future.result()
                except BrokenProcessPool:
                    broken = True
            if broken:
                # A worker died (a native parser crashing, say): find the file that does it.
                items = list(_isolate(settings, job, batch.sent, cache))
        from_worker = iter(zip(items, batch.sent))
        for i, (path, display) in enumerate(batch.chunk):
            settled = batch.settled[i] if batch.settled is not None else None
            yield settled if settled is not None else _expand(next(from_worker)[0], display)

    stop = _Stop().__enter__()
    interrupted = False
    try:
        for start in range(0, len(pending), CHUNK):
            dispatch(pending[start:start + CHUNK])
        chunk = []
        for item in iterator:
            if not isinstance(item, Candidate):
                on_other(item)
                continue
            chunk.append((item.path, item.display))
            if len(chunk) >= CHUNK:
                dispatch(chunk)
                chunk = []
                if dense:
                    wait_for_room()
                # Hand on what is finished, in order: progress shows, memory stays flat.
                while batches and (batches[0].future is None or batches[0].future.done()):
                    yield from results(batches.popleft())
        if chunk:
            dispatch(chunk)
        if not dense:
            _take_back_the_tail(submit, batches, screen)
        while batches:
            yield from results(batches.popleft())
    except (KeyboardInterrupt, GeneratorExit):
        interrupted = True
        raise
    finally:
        stop.__exit__()
        for pool in pools:
            if interrupted:
                # Not waiting for the chunks in progress: the workers are ended now.
                processes = list((getattr(pool, "_processes", None) or {}).values())
                pool.shutdown(wait=False, cancel_futures=True)
                for process in processes:
                    process.terminate()
                for process in processes:
                    process.join(5)
            else:
                pool.shutdown(wait=True, cancel_futures=True)


def _take_back_the_tail(submit, batches: deque[_Batch], screen) -> None:
    """With the walk over, the main process screens the chunks no worker has started, newest first,
    while the workers work from the oldest: both finish at about the same time."""
    for batch in reversed(batches):
        if batch.settled is not None or batch.future is None or not batch.future.cancel():
            continue
        batch.settled = [screen(path, display) for path, display in batch.chunk]
        batch.sent = [entry for entry, result in zip(batch.chunk, batch.settled) if result is None]
        batch.future = submit(batch.sent) if batch.sent else None


def _isolate(settings, job, files: list[tuple[str, str]], cache=None):
    """Run files one at a time in a single-worker pool; a file that kills its worker is reported."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from imds_lint.model import ScanError

    pool = ProcessPoolExecutor(max_workers=1, initializer=_init, initargs=(settings, job, cache))
    try:
        for path, display in files:
            try:
                yield pool.submit(_run_chunk, [(path, display)]).result()[0]
            except BrokenProcessPool:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = ProcessPoolExecutor(max_workers=1, initializer=_init, initargs=(settings, job, cache))
                result = FileResult(display, scanned=True)
                result.errors.append(ScanError(display, "the worker process crashed on this file; file skipped "
                                                        "(please report it)"))
                yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
