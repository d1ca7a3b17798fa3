"""The common model every front-end emits and every rule reads.

A front-end turns a file into ``Request`` objects (one HTTP call to IMDS each) and
typed facts; rules turn those into ``Finding`` objects, each with an optional
``Fix`` made of ``Edit``s. Offsets are character offsets into a document's text;
``Document`` maps them back to the file that holds the document.
"""

from __future__ import annotations

import enum
from bisect import bisect_right

from imds_lint.protocol import MAX_TOKEN_TTL, TOKEN_HEADER, TOKEN_PATH, TTL_HEADER  # noqa: F401 (re-exported)
from imds_lint.records import dataclass, field

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from typing import Callable, Iterable


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


class Category(enum.Enum):
    IMDSV1_CALL = "imdsv1-call"
    PROTOCOL = "protocol"
    HOP_LIMIT = "hop-limit"
    ENFORCEMENT = "enforcement"
    DEPENDENCY = "dependency"
    # Findings about the scan itself: parse errors, suppressions.
    ENGINE = "engine"


class Applicability(enum.Enum):
    """How sure a fix is, after ruff: only SAFE fixes are applied by ``--fix``."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"


class Precision(enum.Enum):
    """How a request was found: from a real parse tree, or by the text fallback."""

    PARSED = "parsed"
    TEXT = "text"


@dataclass(frozen=True, slots=True, order=True)
class Span:
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"span starts after it ends: {self.start} > {self.end}")

    def contains(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``text[start:end]`` with ``content``; an insertion has start == end."""

    start: int
    end: int
    content: str

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)


@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    edits: tuple[Edit, ...]
    applicability: Applicability
    # Set where the edits write back a whole embedded document (``Document.render``): that
    # document and the edits in its own text, so the engine can merge every fix of one blob
    # into one rewrite instead of one per pass.
    rerender: tuple[Document, tuple[Edit, ...]] | None = field(default=None, compare=False)
    # How many findings' fixes this one carries (merged fixes of one embedded document).
    merged: int = field(default=1, compare=False)


@dataclass(frozen=True, slots=True)
class Header:
    """One header a request sends, as far as the source shows it.

    ``span`` covers everything that would be removed to drop the header (the
    flag and its argument in shell); ``name_span`` is where the name is written
    literally, when it is.
    """

    name: str
    value: str | None
    span: Span | None = None
    name_span: Span | None = None
    value_span: Span | None = None

    @property
    def lower_name(self) -> str:
        return self.name.strip().lower()


@dataclass(frozen=True, slots=True)
class ContainerContext:
    """Where a request runs when that is inside a container (filled by later front-ends).

    ``network`` is how the container reaches the instance: ``bridge`` (one hop
    more than the host), ``build`` (a Dockerfile RUN on the build network: a
    bridge unless built with ``--network host``), ``host``, ``awsvpc``, ``none``.
    """

    description: str
    network: str = "bridge"


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request to the instance metadata service, in any language."""

    client: str
    url: str
    endpoint: str
    path: str | None
    method: str | None
    headers: tuple[Header, ...]
    span: Span
    anchor: Span
    document: Document = field(compare=False, repr=False)
    method_explicit: bool = False
    path_span: Span | None = None
    # True where headers may come from a place the front-end cannot see
    # (curl -H @file, **kwargs, a session configured elsewhere).
    headers_unknown: bool = False
    precision: Precision = Precision.PARSED
    # Tools such as ec2-metadata that speak the protocol themselves.
    wrapper: bool = False
    container: ContainerContext | None = None
    handle: object = field(default=None, compare=False, repr=False)

    def header(self, lower_name: str) -> Header | None:
        return next((h for h in self.headers if h.lower_name == lower_name), None)

    @property
    def has_token(self) -> bool:
        return self.header(TOKEN_HEADER) is not None

    @property
    def ttl_header(self) -> Header | None:
        return self.header(TTL_HEADER)

    @property
    def is_token_fetch(self) -> bool:
        """A request meant to obtain a token: to the token path, or a PUT (or unknown path) with the TTL header.

        A GET of a data path (meta-data, dynamic, user-data) that also carries a
        TTL header, often copied along with the token header, is a data request:
        IMDS ignores the extra header and answers it.
        """
        if _looks_like_token_path(self.path):
            return True
        if self.ttl_header is None:
            return False
        return self.method == "PUT" or not _is_data_path(self.path)

    @property
    def token_header_near_miss(self) -> Header | None:
        """A header that was probably meant to be the token header but is misspelled."""
        for header in self.headers:
            name = header.lower_name
            if name in (TOKEN_HEADER, TTL_HEADER):
                continue
            if "token" in name and ("metadata" in name or "imds" in name or "ec2" in name):
                return header
            if _edit_distance(name, TOKEN_HEADER, limit=3) <= 3:
                return header
        return None


def _looks_like_token_path(path: str | None) -> bool:
    return path is not None and path.rstrip("/").endswith("/api/token")


_DATA_CATEGORIES = frozenset({"meta-data", "dynamic", "user-data"})


def _is_data_path(path: str | None) -> bool:
    """``/latest/meta-data/...``, ``/2021-07-15/dynamic/...``: a path that names data, not a token."""
    if path is None:
        return False
    parts = path.split("/")
    return len(parts) > 2 and parts[2] in _DATA_CATEGORIES


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


# ---------------------------------------------------------------------------
# Documents: a file, or a region of another document in another language.


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of a document that comes from ``outer[outer_start:outer_end]``.

    Verbatim runs have equal lengths; an escape sequence (``\\$`` standing for
    ``$``) is a run whose lengths differ and whose inner offsets all map to its
    outer start.
    """

    inner_start: int
    inner_end: int
    outer_start: int
    outer_end: int


def merge_segments(segments: list[Segment]) -> list[Segment]:
    """Join adjacent verbatim segments into runs (unescaping builds them a character at a time)."""
    merged: list[Segment] = []
    for seg in segments:
        verbatim = seg.outer_end - seg.outer_start == seg.inner_end - seg.inner_start
        if merged and verbatim:
            last = merged[-1]
            last_verbatim = last.outer_end - last.outer_start == last.inner_end - last.inner_start
            if last_verbatim and last.inner_end == seg.inner_start and last.outer_end == seg.outer_start:
                merged[-1] = Segment(last.inner_start, seg.inner_end, last.outer_start, seg.outer_end)
                continue
        merged.append(seg)
    return merged


class OffsetMap:
    """Maps offsets of an embedded document to offsets of the document holding it."""

    def __init__(self, segments: Iterable[Segment]):
        self.segments = sorted(segments, key=lambda s: s.inner_start)
        self._starts = [s.inner_start for s in self.segments]

    @classmethod
    def shifted(cls, outer_start: int, length: int) -> OffsetMap:
        return cls([Segment(0, length, outer_start, outer_start + length)])

    def to_outer(self, offset: int) -> int:
        if not self.segments:
            return 0
        index = max(bisect_right(self._starts, offset) - 1, 0)
        seg = self.segments[index]
        if offset >= seg.inner_end:
            return seg.outer_end
        if seg.inner_end - seg.inner_start == seg.outer_end - seg.outer_start:
            return seg.outer_start + (offset - seg.inner_start)
        return seg.outer_start


def no_escape(text: str) -> str:
    return text


@dataclass(eq=False)
class Document:
    """Text in one language: a whole file, or a region embedded in a parent document.

    ``escape`` turns text meant for this document into the spelling it needs in
    the parent (shell quoting, Terraform ``$${}``, YAML quoting, ...), so that
    fixes found inside an embedded document can be written back to the file.
    """

    kind: str
    text: str
    parent: Document | None = None
    offsets: OffsetMap | None = None
    escape: Callable[[str], str] = no_escape
    label: str = ""
    # Whether edits may be written back through this document (a base64 blob
    # that cannot be re-encoded exactly, for example, says no).
    writable: bool = True
    container: ContainerContext | None = None
    # The file's display path, set on root documents only (see ``root.path``).
    path: str = ""
    # A document whose spelling in the parent cannot be edited piecewise (a plain YAML scalar that
    # must gain quotes, a base64 blob, an argv list that becomes a shell line) is written back
    # whole: ``render`` turns its fixed text into the parent's spelling of ``rendered_span``, or
    # None where it cannot.
    render: Callable[[str], str | None] | None = None
    rendered_span: Span | None = None
    # Why a fix through this embedding cannot keep every guarantee (it is demoted to unsafe);
    # ``unsafe_for`` says it per fix, from the fix's edits in this document's text.
    unsafe_reason: str | None = None
    unsafe_for: Callable[[list[Edit]], str | None] | None = None
    # Where the parent has a better place for an edit than the offsets say (a new line of a
    # script joined from a list goes in as a list element of its own); None: the offsets' place.
    place: Callable[[Edit], Edit | None] | None = None

    @property
    def root(self) -> Document:
        doc = self
        while doc.parent is not None:
            doc = doc.parent
        return doc

    @property
    def depth(self) -> int:
        return 0 if self.parent is None else 1 + self.parent.depth

    def to_root_offset(self, offset: int) -> int:
        doc, value = self, offset
        while doc.parent is not None and doc.offsets is not None:
            value = doc.offsets.to_outer(value)
            doc = doc.parent
        return value

    def to_root_span(self, span: Span) -> Span:
        return Span(self.to_root_offset(span.start), self.to_root_offset(span.end))

    def edit_to_root(self, edit: Edit) -> Edit | None:
        """The same edit in the root document, escaped on its way out; None if impossible."""
        edits = self.edits_to_root([edit])
        return None if edits is None or len(edits) != 1 else edits[0]

    def edits_to_root(self, edits: list[Edit], rendered: list | None = None,
                      reasons: list[str] | None = None) -> list[Edit] | None:
        """Edits of this document's text as edits of the root's; None if impossible.

        ``rendered``, when given, receives (document, its edits) for the outermost
        document on the way that is written back whole; ``reasons`` what each
        document on the way says makes the fix unsafe.
        """
        doc = self
        while doc.parent is not None:
            if not doc.writable:
                return None
            if reasons is not None:
                reason = doc.unsafe_reason or (doc.unsafe_for(edits) if doc.unsafe_for is not None else None)
                if reason is not None and reason not in reasons:
                    reasons.append(reason)
            if doc.render is not None and doc.rendered_span is not None:
                # Written back whole: apply the edits here, spell the result as the parent does.
                try:
                    fixed = apply_edits(doc.text, edits)
                except ValueError:
                    return None
                spelling = doc.render(fixed)
                if spelling is None:
                    return None
                if rendered is not None:
                    rendered[:] = [(doc, tuple(edits))]
                edits = [Edit(doc.rendered_span.start, doc.rendered_span.end, spelling)]
            elif doc.offsets is None:
                return None
            else:
                to_outer, escape, place = doc.offsets.to_outer, doc.escape, doc.place
                edits = [(place(e) if place is not None else None) or
                         Edit(to_outer(e.start), to_outer(e.end), escape(e.content)) for e in edits]
            doc = doc.parent
        return edits

    def fix_to_root(self, fix: Fix) -> Fix | None:
        rendered: list = []
        reasons: list[str] = []
        edits = self.edits_to_root(list(fix.edits), rendered, reasons)
        if edits is None:
            return None
        rerender = rendered[0] if rendered else None
        if not reasons:
            return Fix(fix.title, tuple(edits), fix.applicability, rerender)
        demoted = Applicability.UNSAFE if fix.applicability is Applicability.SAFE else fix.applicability
        return Fix(_with_reasons(fix.title, reasons), tuple(edits), demoted, rerender)

    def embed(
        self,
        kind: str,
        text: str,
        offsets: OffsetMap,
        *,
        escape: Callable[[str], str] = no_escape,
        label: str = "",
        writable: bool = True,
        container: ContainerContext | None = None,
        render: Callable[[str], str | None] | None = None,
        rendered_span: Span | None = None,
        unsafe_reason: str | None = None,
        unsafe_for: Callable[[list[Edit]], str | None] | None = None,
        place: Callable[[Edit], Edit | None] | None = None,
    ) -> Document:
        return Document(
            kind=kind,
            text=text,
            parent=self,
            offsets=offsets,
            escape=escape,
            label=label,
            writable=writable and self.writable,
            container=container or self.container,
            render=render,
            rendered_span=rendered_span,
            unsafe_reason=unsafe_reason,
            unsafe_for=unsafe_for,
            place=place,
        )


def _with_reasons(title: str, reasons: list[str]) -> str:
    """``title (unsafe: a; b)``, joining a reason the fix already names."""
    if title.endswith(")") and " (unsafe: " in title:
        return title[:-1] + "; " + "; ".join(reasons) + ")"
    return f"{title} (unsafe: {'; '.join(reasons)})"


class OverlapError(ValueError):
    pass


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits; identical edits (a shared token fetch) count once."""
    unique = sorted(set(edits), key=lambda e: (e.start, e.end, e.content))
    pieces: list[str] = []
    cursor = 0
    last: Edit | None = None
    for edit in unique:
        if last is not None and last.end > edit.start:  # touching is fine, overlapping is not
            raise OverlapError(f"edits overlap at {edit.start}")
        pieces.append(text[cursor:edit.start])
        pieces.append(edit.content)
        cursor = edit.end
        last = edit
    pieces.append(text[cursor:])
    return "".join(pieces)


@dataclass(frozen=True, slots=True)
class Location:
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    name: str
    category: Category
    severity: Severity
    message: str
    span: Span
    fix: Fix | None = None
    # The whole statement the finding is about (a multi-line curl), for suppressions.
    extent: Span | None = None
    # Filled in by the engine once the file is known.
    path: str = ""
    start: Location = Location(0, 0)
    end: Location = Location(0, 0)
    snippet: str = ""
    # The column of the line ``snippet`` starts at: 1 unless a long line was cut to a window.
    snippet_column: int = 1
    # Where each of ``fix.edits`` starts and ends in the file, for reporters
    # (SARIF replacements) that have no text to map offsets with.
    fix_locations: tuple[tuple[Location, Location], ...] = ()

    @property
    def fixable(self) -> bool:
        return self.fix is not None and self.fix.applicability is not Applicability.DISPLAY_ONLY

    def sort_key(self) -> tuple:
        return (self.path, self.start.line, self.start.column, self.code)


@dataclass(frozen=True, slots=True)
class ScanError:
    path: str
    message: str
