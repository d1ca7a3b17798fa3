"""Decoding embedded payloads (base64, gzip) within one byte budget per scanned file.

gzip turns 1.4 MB into 1.4 GB, and a decoded payload may hold another one
(a cloud-config whose ``write_files`` entry is a cloud-config with its own
``gz+b64`` file). So every payload decoded while one file is scanned, nested
ones included, draws on one budget (max-file-size: what the file itself could
have held), and gzip is inflated in steps that stop at the budget instead of
all at once.
"""

from __future__ import annotations

# base64 (and struct under it), binascii and zlib load with the first payload: most runs decode
# none, and the engine imports this module for DecodeBudget alone.

_STEP = 1 << 20


class BudgetExceeded(Exception):
    """Decoding would pass the file's budget; the message says so for the notes."""


class DecodeBudget:
    __slots__ = ("limit", "used")

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0

    def take(self, size: int, what: str) -> None:
        if self.used + size > self.limit:
            self.used = self.limit  # one refusal spends the rest: later payloads are refused as well
            raise BudgetExceeded(f"{what} decodes to more than the {self.limit:,} bytes one file's embedded "
                                 "payloads may decode to (max-file-size); not scanned")
        self.used += size


def budget_of(session) -> DecodeBudget:
    """The session's budget (a stand-in session without one gets its own, at the default size)."""
    budget = getattr(session, "decode_budget", None)
    if budget is None:
        from imds_lint.config import DEFAULT_MAX_FILE_SIZE

        budget = DecodeBudget(DEFAULT_MAX_FILE_SIZE)
        try:
            session.decode_budget = budget
        except AttributeError:
            pass
    return budget


def b64decode(value: str, budget: DecodeBudget, what: str = "a base64 payload") -> bytes | None:
    """The bytes ``value`` spells in base64 (whitespace ignored), None when it is not base64."""
    compact = "".join(value.split())
    budget.take(len(compact) // 4 * 3, what)
    import base64
    import binascii

    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def gunzip(raw: bytes, budget: DecodeBudget, what: str = "a gzip payload") -> bytes | None:
    """``raw`` inflated (every gzip member, like ``gzip.decompress``), None when it is not gzip."""
    import zlib

    out: list[bytes] = []
    data = raw
    try:
        while data:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pending = data
            while pending:
                chunk = inflater.decompress(pending, _STEP)
                budget.take(len(chunk), what)
                out.append(chunk)
                pending = inflater.unconsumed_tail
            while not inflater.eof:
                chunk = inflater.decompress(b"", _STEP)
                if not chunk:
                    break
                budget.take(len(chunk), what)
                out.append(chunk)
            if not inflater.eof:
                return None  # truncated
            data = inflater.unused_data.lstrip(b"\0")  # gzip allows trailing zero padding
    except zlib.error:
        return None
    return b"".join(out)


def b64_renderer(spelling: str, gzipped: bool = False):
    """A function that spells fixed text as ``spelling`` spells its payload; None when it cannot.

    Only a canonical encoding is re-spelt (padding as ``b64encode`` writes it, no
    stray characters), in one line or wrapped at one width with one kind of line
    break (MIME, ``base64 -w 76``), so an unchanged payload encodes back to the
    very same characters and a fixed one is laid out as its neighbours.
    """
    newline = "\r\n" if "\r\n" in spelling else "\n"
    trailing = newline if spelling.endswith(newline) else ""
    body = spelling[:len(spelling) - len(trailing)] if trailing else spelling
    lines = body.split(newline) if newline in body else [body]
    width = len(lines[0])
    if not width or any(len(line) != width for line in lines[:-1]) or not 0 < len(lines[-1]) <= width:
        return None
    compact = "".join(lines)
    import base64
    import binascii

    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    if base64.b64encode(raw).decode("ascii") != compact:
        return None

    def render(text: str) -> str:
        payload = text.encode("utf-8")
        if gzipped:
            import gzip

            payload = gzip.compress(payload, mtime=0)  # the same text decompresses out; its bytes are new
        encoded = base64.b64encode(payload).decode("ascii")
        if len(lines) == 1:
            return encoded + trailing
        return newline.join(encoded[i:i + width] for i in range(0, len(encoded), width)) + trailing

    return render
