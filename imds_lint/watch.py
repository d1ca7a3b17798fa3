"""``--watch``: scan, then scan again whenever a file under the scanned paths changes (ruff's
``--watch``). Polling, not inotify: no dependency, the same on every system, and a stat of every
file a walk would hand out costs ~30 ms on an 18,000-file tree every half second.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

INTERVAL = 0.5


def snapshot(paths: list[str]) -> frozenset:
    """(path, mtime, size) of every file discovery would hand out (.gitignore and skipped
    folders honoured, configs and .gitignore files themselves included), and the paths that
    could not be scanned: a change in any of them is a reason to scan again."""
    from imds_lint.discovery import Candidate, discover

    seen = set()
    for item in discover(paths, Path.cwd(), ()):
        if isinstance(item, Candidate):
            try:
                st = os.stat(item.path)
            except OSError:
                continue
            seen.add((item.path, st.st_mtime_ns, st.st_size))
        else:
            seen.add((item.display, item.message))
    return frozenset(seen)


def watch(run_once: Callable[[], int], paths: list[str], sleep: Callable[[float], None] = time.sleep,
          stream=None) -> int:
    """Run ``run_once`` now and after every change; Ctrl-C ends the watch (exit 0)."""
    stream = sys.stderr if stream is None else stream
    try:
        while True:
            before = snapshot(paths)
            run_once()
            files = sum(1 for entry in before if len(entry) == 3)
            stream.write(f"imds-lint: watching {files} file{'s' if files != 1 else ''} for changes "
                         "(Ctrl-C to stop)\n")
            stream.flush()
            while True:
                sleep(INTERVAL)
                now = snapshot(paths)
                if now != before:
                    stream.write("imds-lint: files changed; scanning again\n")
                    break
    except KeyboardInterrupt:
        return 0
