"""The one token-first plan: how a tokenless request gets a token without changing what the program does.

Every language fixer answers the same questions through a small syntax
adapter (``Adapter``) and this module decides; adapters render syntax, they
decide nothing:

- **where** the token fetch runs: in the scope that runs the request, never at
  load or ``source`` time. Either a guarded statement just before the request's
  statement in its own block (shell, PowerShell: ``Placement.STATEMENT``), or a
  cached helper whose definition sits at module level and is *called* inside
  the request (Python, JavaScript, Go: ``Placement.HELPER``); a definition runs
  nothing when the module loads;
- **how often**: once per script or process, however many requests follow (the
  statement is guarded, the helper caches the token until its TTL ends);
- **what it is called**: a fresh name the document does not use in any
  spelling, or an existing variable only when it provably holds the body of a
  successful PUT to the token path (``Adapter.reusable_token``);
- **what it carries**: the request's own time limit (``Adapter.limit``), and
  the request's failure tolerance: a failed fetch never stops the program, it
  leaves the token empty and the request goes out and fails (or not) as before;
- **what the request gets**: the token header, and only when the request goes
  to IMDS alone (a wrapper that also serves other hosts would hand them the
  token);
- **how safe it is**: every guarantee an adapter cannot prove comes back as an
  ``Unproven`` reason; any reason makes the fix unsafe (or, for a display-only
  language, withholds the suggestion), and the title names each one:
  ``"... (unsafe: <the guarantee that could not be proven>)"``.
"""

from __future__ import annotations

from enum import Enum

from imds_lint.model import Applicability, Edit, Fix, Request
from imds_lint.protocol import TOKEN_HEADER_NAME, TOKEN_PATH, TTL_HEADER_NAME
from imds_lint.records import dataclass

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from typing import Iterable, Protocol
else:
    Protocol = object  # the protocols below are for type checkers; at run time, plain classes

TITLE = "Fetch an IMDSv2 token first and send it with this request"
VARIABLE_BASE = "IMDS_TOKEN"


class Unproven(Enum):
    """A guarantee of the fix contract a fixer could not prove; the value completes "unsafe: ..."."""

    # The token goes to IMDS only.
    SHARED_WRAPPER = "the wrapper also serves callers that talk to other hosts, which would get the token"
    SHARED_CLIENT = "the client also sends requests to other hosts, and a header set on it goes with each of them"
    # The fetch keeps the request's time limit.
    HIDDEN_LIMIT = "the request's options (and so its time limit) come partly from an expansion the fixer cannot read"
    SUBPROCESS_LIMIT = "the command run by subprocess keeps its own time limit, which the token fetch cannot copy"
    SESSION_LIMIT = ("the request goes through a session or connection built elsewhere, whose time limit and "
                     "base address the fixer cannot read")
    # The fetch runs exactly where the request does.
    CONDITIONAL = "the request runs only after an elif condition failed; no place runs the fetch exactly when it does"
    SHORT_CIRCUIT = "the request runs only when a -and/-or/&&/|| operand lets it; the fetch would run when it does not"
    ASYNC_LOOP = ("async code: the cached token is shared through a lock made in the first event loop, "
                  "which a program running several loops cannot share")
    # The header goes on this request and no other.
    REQUEST_ELSEWHERE = "the header goes on a Request object built in another statement, which may serve other calls"
    HEADERS_VARIABLE = "the headers come from a variable the fixer cannot read (it may not be a dict)"
    NO_PLACE = ("no statement in the request's own block runs exactly when it does (a parameter default runs "
                "before its function's body)")
    # The fetch's form works wherever the original ran.
    PUT_FORM_MISSING = "this client's PUT form (wget --method) is missing from some builds (BusyBox)"
    # The rewrite was run in the three worlds.
    NOT_RUN_POWERSHELL = ("no PowerShell runtime here has run this rewrite in the three worlds (empty-token "
                          "headers, -TimeoutSec and try/catch on the token PUT are unproven)")

    def __str__(self) -> str:
        return self.value


__all__ = ["TITLE", "TOKEN_HEADER_NAME", "TOKEN_PATH", "TTL_HEADER_NAME", "Unproven", "Limit", "Placement",
           "Fetch", "Adapter", "DocumentPlan", "ScriptAdapter", "base_url", "fresh_name", "plan", "title", "token_before", "token_url"]


@dataclass(frozen=True, slots=True)
class Limit:
    """The time limits a request carries (as written in its language), copied onto its token fetch."""

    total: str | None = None     # curl --max-time, wget --timeout, -TimeoutSec, requests timeout=
    connect: str | None = None   # curl --connect-timeout
    hidden: bool = False         # some options come from an expansion: there may be a limit we cannot copy

    @property
    def bounded(self) -> bool:
        return self.total is not None or self.connect is not None


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a request's token fetch goes: before ``offset``.

    ``STATEMENT``: a guarded statement in the scope that runs the request;
    ``offset`` is None when a fetch that always runs earlier in the same scope
    has filled the variable already. ``HELPER``: a cached helper defined at
    module level (``offset``, the same for every request of its kind), called
    inside the request itself.

    ``conditional`` is set when the request runs only on some paths of the
    statement the fetch precedes; ``extra`` holds more places that need the
    same guarded fetch (the call sites of a function that run it in a subshell,
    where the cached token would not reach the caller).
    """

    STATEMENT = "statement"
    HELPER = "helper"

    offset: int | None
    conditional: bool = False
    extra: tuple[int, ...] = ()
    # Set where the fetch joins an ``a && b`` / ``a || b`` chain just before the request's operand:
    # the operator, and where that operand ends.
    chain: tuple[str, int] | None = None
    kind: str = STATEMENT
    # Why the statement the fetch precedes does not run exactly when the request does (for ``conditional``).
    why: Unproven = Unproven.CONDITIONAL


@dataclass(frozen=True, slots=True)
class Fetch:
    """The fetch as the adapter writes it, and the guarantee its form cannot keep (if any)."""

    text: str
    unproven: Unproven | None = None


class DocumentPlan(Protocol):
    """What is decided once per document (or per helper family): the fresh variable's name."""

    variable: str | None


class Adapter(Protocol):
    """What a language tells the plan about one request (in its own document's offsets).

    Every method answers a question about syntax; None means "no place is sure"
    (the plan then offers no fix, and the rule's message gives the recipe).
    """

    # The fresh name's stem and how a counter joins it: ("IMDS_TOKEN", "_") -> IMDS_TOKEN_2.
    name_base: str
    name_join: str
    fold_case: bool  # names ignore case (PowerShell)

    def unproven(self, request: Request) -> Iterable[Unproven]:
        """What this language cannot prove about the request whatever the placement."""
        ...

    def placement(self, request: Request) -> Placement | Unproven | None:
        """Where the fetch goes; an ``Unproven`` reason where the language has no sure place (the
        finding then says why it has no fix); None where the adapter does not handle the request."""
        ...

    def limit(self, request: Request) -> Limit: ...

    def reusable_token(self, request: Request, placement: Placement) -> str | None: ...

    def names_in_use(self) -> Iterable[str]: ...

    def fetch(self, request: Request, variable: str, limit: Limit, ttl: int) -> Fetch | None: ...

    def insert(self, placement: Placement, offset: int, fetch: str) -> list[Edit]: ...

    def header(self, request: Request, variable: str, limit: Limit) -> list[Edit] | None: ...


def base_url(request: Request) -> str:
    scheme = "https" if request.url.lower().startswith("https://") else "http"
    return f"{scheme}://{request.endpoint}"


def token_url(request: Request) -> str:
    return f"{base_url(request)}{TOKEN_PATH}"


def fresh_name(taken: Iterable[str], text: str, base: str = VARIABLE_BASE, join: str = "_",
               fold_case: bool = False) -> str:
    """``base``, or ``base_2``, ... : a name the document does not use in any spelling.

    ``fold_case`` for languages whose names ignore case (PowerShell)."""
    def norm(s: str) -> str:
        return s.lower() if fold_case else s

    used = {norm(t) for t in taken}
    haystack = norm(text)
    name, n = base, 1
    while norm(name) in used or norm(name) in haystack:
        n += 1
        name = f"{base}{join}{n}"
    return name


def token_before(token_variables: dict[str, int], start: int) -> str | None:
    """Which existing variable a request may send as its token: one the front-end proved holds the body of
    a successful PUT to the token path (name -> where the statement assigning it ends, at top level),
    assigned before the request's own top-level statement starts; the earliest such."""
    for name, end in sorted(token_variables.items(), key=lambda kv: kv[1]):
        if end <= start:
            return name
    return None


class ScriptAdapter:
    """The part of the Adapter that script languages (shell, PowerShell) share: their front-ends record
    which top-level variables provably hold a token PUT's body (``state.token_variables``) and every
    name in use (``state.variables``); ``top_level_statement`` is the syntax module's own."""

    state: object

    @staticmethod
    def top_level_statement(state, node):
        raise NotImplementedError

    def reusable_token(self, request: Request, placement: Placement | None) -> str | None:
        statement = self.top_level_statement(self.state, request.handle.command)
        return None if statement is None else token_before(self.state.token_variables,
                                                           self.state.span(statement).start)

    def names_in_use(self) -> Iterable[str]:
        return self.state.variables


def title(reasons: Iterable[Unproven | None], base: str = TITLE) -> str:
    missing = [str(r) for r in dict.fromkeys(reasons) if r]
    return base if not missing else f"{base} (unsafe: {'; '.join(missing)})"


def plan(request: Request, adapter: Adapter, document_plan: DocumentPlan, text: str, ttl: int,
         shared: bool = False, applicability: Applicability = Applicability.SAFE,
         base_title: str = TITLE) -> Fix | None:
    """The token-first fix for one tokenless request, or None when the adapter cannot place one.

    ``shared``: the request sits in a wrapper that also serves other hosts.
    ``applicability``: the best this language's fixes can be (DISPLAY_ONLY for
    suggestions). A display-only suggestion that would break a guarantee, and
    any fix with no sure place, is withheld: a display-only fix with no edits,
    whose title (which the finding's message carries) says why.
    """
    if request.has_token or request.is_token_fetch or request.wrapper:
        return None
    reasons: list[Unproven | None] = [Unproven.SHARED_WRAPPER if shared else None, *adapter.unproven(request)]
    if applicability is Applicability.DISPLAY_ONLY and any(reasons):
        return _withheld(reasons, base_title)
    placement = adapter.placement(request)
    if placement is None:
        return None
    if isinstance(placement, Unproven):
        return _withheld([*reasons, placement], base_title)
    edits: list[Edit] = []
    limit = adapter.limit(request)
    variable = adapter.reusable_token(request, placement)
    if variable is None:
        if document_plan.variable is None:
            document_plan.variable = fresh_name(adapter.names_in_use(), text, adapter.name_base, adapter.name_join,
                                                adapter.fold_case)
        variable = document_plan.variable
        fetch = adapter.fetch(request, variable, limit, ttl)
        if fetch is None:
            return None
        reasons += [fetch.unproven, placement.why if placement.conditional else None,
                    Unproven.HIDDEN_LIMIT if limit.hidden else None]
        offsets = (*((placement.offset,) if placement.offset is not None else ()), *placement.extra)
        for offset in offsets:
            edits.extend(adapter.insert(placement, offset, fetch.text))
    if applicability is Applicability.DISPLAY_ONLY and any(reasons):
        return _withheld(reasons, base_title)
    header = adapter.header(request, variable, limit)
    if header is None:
        return None
    edits = _fetch_first(edits, header)
    if applicability is not Applicability.DISPLAY_ONLY and any(reasons):
        applicability = Applicability.UNSAFE
    return Fix(title(reasons, base_title), tuple(edits), applicability)


def _fetch_first(fetches: list[Edit], header: list[Edit]) -> list[Edit]:
    """All edits, where a header line inserted at the fetch's own point comes after the fetch
    (insertions at one point are otherwise applied in no particular order)."""
    at = {e.start: e for e in fetches if e.start == e.end}
    merged = list(fetches)
    for edit in header:
        fetch = at.get(edit.start) if edit.start == edit.end else None
        if fetch is None:
            merged.append(edit)
        else:
            merged[merged.index(fetch)] = Edit(fetch.start, fetch.end, fetch.content + edit.content)
    return merged


def _withheld(reasons: list[Unproven | None], base_title: str) -> Fix:
    missing = "; ".join(str(r) for r in dict.fromkeys(reasons) if r)
    return Fix(f"{base_title} (no suggestion: {missing})", (), Applicability.DISPLAY_ONLY)
