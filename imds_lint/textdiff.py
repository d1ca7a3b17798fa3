"""Unified diffs of a file and its fixed text, in time linear in their size.

difflib's matcher is quadratic on the files fixes produce at scale: 32,000
identical ``curl`` lines, each changed, took 67 s. Small files keep difflib's
diff exactly; larger ones are aligned by a walk that resynchronises within a
short window (fixes insert or rewrite a few lines at a time), which is linear
and still yields a correct patch, only not always the shortest one.
"""

from __future__ import annotations

import difflib

# Up to this many lines on either side, difflib's own (minimal-looking) diff.
DIFFLIB_LINES = 2_000
# How far ahead the linear walk looks for the two sides to agree again.
WINDOW = 32


def unified_diff(a: list[str], b: list[str], fromfile: str, tofile: str, n: int = 3) -> str:
    if len(a) <= DIFFLIB_LINES and len(b) <= DIFFLIB_LINES:
        return "".join(difflib.unified_diff(a, b, fromfile=fromfile, tofile=tofile, n=n))
    # No sequences given: the matcher would index every line of ``b`` (a dict of lists, about
    # 10 MB per MB of fixed text) only to have its opcodes replaced.
    matcher = difflib.SequenceMatcher(None, (), (), autojunk=False)
    matcher.opcodes = linear_opcodes(a, b)  # get_opcodes() returns these; grouping is difflib's
    out: list[str] = []
    for group in matcher.get_grouped_opcodes(n):
        if not out:
            out += [f"--- {fromfile}\n", f"+++ {tofile}\n"]
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        # The marker and the line as two pieces: the lines are not copied once more before the join.
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                _marked(out, " ", a, i1, i2)
                continue
            if tag in ("replace", "delete"):
                _marked(out, "-", a, i1, i2)
            if tag in ("replace", "insert"):
                _marked(out, "+", b, j1, j2)
    return "".join(out)


def _marked(out: list[str], marker: str, lines: list[str], start: int, stop: int) -> None:
    for i in range(start, stop):
        out.append(marker)
        out.append(lines[i])


def _range(start: int, stop: int) -> str:
    """difflib's unified range: "start,length", 1-based; an empty range names the line before it."""
    beginning, length = start + 1, stop - start
    if length == 1:
        return str(beginning)
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


def linear_opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """Opcodes (as SequenceMatcher.get_opcodes) turning ``a`` into ``b``, in O((len(a) + len(b)) * WINDOW)."""
    ops: list[tuple[str, int, int, int, int]] = []

    def emit(tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        if i1 == i2 and j1 == j2:
            return
        if ops and ops[-1][0] == tag:  # merge with the previous opcode of the same kind
            _, p1, _, q1, _ = ops[-1]
            ops[-1] = (tag, p1, i2, q1, j2)
        elif ops and tag != "equal" and ops[-1][0] != "equal":
            _, p1, _, q1, _ = ops.pop()  # a delete next to an insert is one replace
            ops.append(("replace", p1, i2, q1, j2))
        else:
            ops.append((tag, i1, i2, j1, j2))

    i = j = 0
    len_a, len_b = len(a), len(b)
    while i < len_a and j < len_b:
        if a[i] == b[j]:
            start_i, start_j = i, j
            while i < len_a and j < len_b and a[i] == b[j]:
                i += 1
                j += 1
            emit("equal", start_i, i, start_j, j)
            continue
        for k in range(1, WINDOW + 1):
            if j + k < len_b and b[j + k] == a[i]:  # k lines inserted
                emit("insert", i, i, j, j + k)
                j += k
                break
            if i + k < len_a and a[i + k] == b[j]:  # k lines deleted
                emit("delete", i, i + k, j, j)
                i += k
                break
            if i + k < len_a and j + k < len_b and a[i + k] == b[j + k]:  # k lines rewritten
                emit("replace", i, i + k, j, j + k)
                i += k
                j += k
                break
        else:
            emit("replace", i, i + 1, j, j + 1)
            i += 1
            j += 1
    emit("delete", i, len_a, j, j)
    emit("insert", len_a, len_a, j, len_b)
    return ops
