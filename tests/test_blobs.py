"""The base64 blob scan finds exactly the runs its look-behind spelling found (it was rewritten for speed)."""

from __future__ import annotations

import random
import re
import time

from imds_lint.frontends.blobs import _BLOB

# The spelling the scan had before: the opening quote looked behind for.
LOOK_BEHIND = re.compile(r"""(?<=["'])[A-Za-z0-9+/]{24,}={0,2}(?=["'])""")
PIECES = ['"', "'", "=", "==", "===", " ", "\n", "A" * 24, "B" * 23, "c", "+/" * 13, "Zm9v" * 7, "é", '""',
          'x="', "'='", "\\", "${", "\ud800"]


def _spans(text: str) -> tuple[list, list]:
    return ([(m.start(), m.end()) for m in LOOK_BEHIND.finditer(text)],
            [(m.start(1), m.end(1)) for m in _BLOB.finditer(text)])


def test_generated_texts_give_the_same_blobs_for_two_seconds():
    rng = random.Random(19)
    deadline = time.process_time() + 2
    with_blobs = 0
    while time.process_time() < deadline:
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 16)))
        old, new = _spans(text)
        assert new == old, text
        with_blobs += bool(old)
    assert with_blobs > 100  # the generator does reach the interesting cases


def test_fixtures_give_the_same_blobs():
    from tests.conftest import ROOT

    for path in (ROOT / "fixtures").rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "surrogateescape")
            old, new = _spans(text)
            assert new == old, path
