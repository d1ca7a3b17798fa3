"""The one token-first plan: how a tokenless request gets a token without changing what the program does.

Every language fixer answers the same questions through a small syntax adapter
and this module decides:

- **where** the token fetch goes: in the scope that runs the request (inside
  the function, loop or branch; never at load or ``source`` time), guarded so
  it runs once per process however many requests follow;
- **what it is called**: a fresh name, or an existing variable only when it
  provably holds the body of a PUT to the token path;
- **what it carries**: the request's own failure tolerance (a failed fetch
  never stops the program, it leaves the token empty and the request goes out
  as before) and its time limit;
- **how safe it is**: anything the adapter cannot prove (a wrapper that serves
  other hosts, a request that runs only after an ``elif`` condition failed, a
  client whose PUT form some builds lack, as the client table says) makes the
  fix unsafe, and the title says which guarantee is missing.
"""

from __future__ import annotations

from typing import Iterable, Protocol

from imds_lint.model import Applicability, Edit, Fix, Request
from imds_lint.protocol import TOKEN_HEADER_NAME, TOKEN_PATH, TTL_HEADER_NAME
from imds_lint.records import dataclass, field

TITLE = "Fetch an IMDSv2 token first and send it with this request"
VARIABLE_BASE = "IMDS_TOKEN"

# The guarantees a safe token-first fix keeps; an unsafe fix names the one it could not prove.
SHARED_WRAPPER = "the wrapper also serves callers that talk to other hosts, which would get the token"
HIDDEN_LIMIT = "the request's options (and so its time limit) come partly from an expansion the fixer cannot read"
CONDITIONAL = "the request runs only after an elif condition failed; no place runs the fetch exactly when it does"


__all__ = ["TITLE", "TOKEN_HEADER_NAME", "TOKEN_PATH", "TTL_HEADER_NAME", "Limit", "Placement", "Adapter",
           "base_url", "fresh_name", "plan", "title"]


@dataclass(frozen=True, slots=True)
class Limit:
    """The time limits a request carries (seconds, as written), copied onto its token fetch."""

    total: str | None = None     # curl --max-time, wget --timeout, requests timeout=
    connect: str | None = None   # curl --connect-timeout
    hidden: bool = False         # some options come from an expansion: there may be a limit we cannot copy

    @property
    def bounded(self) -> bool:
        return self.total is not None or self.connect is not None


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a request's token fetch goes: before ``offset``, in the scope that runs the request.

    ``offset`` is None when a fetch that always runs earlier in the same scope
    has filled the variable already.

    ``conditional`` is set when the request runs only on some paths of the
    statement the fetch precedes (``test && curl ...``); ``extra`` holds more
    places that need the same guarded fetch (the call sites of a function that
    run it in a subshell, where the cached token would not reach the caller).
    """

    offset: int | None
    conditional: bool = False
    extra: tuple[int, ...] = ()
    # Set where the fetch joins an ``a && b`` / ``a || b`` chain just before the request's operand:
    # the operator, and where that operand ends.
    chain: tuple[str, int] | None = None


class Adapter(Protocol):
    """What a language tells the plan about one request (in its own document's offsets)."""

    def placement(self, request: Request) -> Placement | None: ...

    def limit(self, request: Request) -> Limit: ...

    def reusable_token(self, request: Request, placement: Placement) -> str | None: ...

    def names_in_use(self) -> Iterable[str]: ...

    def fetch(self, request: Request, variable: str, limit: Limit, ttl: int) -> tuple[str, str | None] | None:
        """The guarded fetch statement and, when it cannot be made safe, the reason."""
        ...

    def insert(self, placement: Placement, offset: int, statement: str) -> list[Edit]: ...

    def header(self, request: Request, variable: str) -> Edit | None: ...


@dataclass
class DocumentPlan:
    """What is decided once per document: the fresh variable's name."""

    variable: str | None = None
    reasons: dict[int, str] = field(default_factory=dict)


def base_url(request: Request) -> str:
    scheme = "https" if request.url.lower().startswith("https://") else "http"
    return f"{scheme}://{request.endpoint}"


def fresh_name(taken: Iterable[str], text: str, base: str = VARIABLE_BASE) -> str:
    """``base``, or ``base_2``, ... : a name the document does not use in any spelling."""
    used = set(taken)
    name, n = base, 1
    while name in used or name in text:
        n += 1
        name = f"{base}_{n}"
    return name


def title(reasons: Iterable[str | None]) -> str:
    missing = [r for r in dict.fromkeys(reasons) if r]
    return TITLE if not missing else f"{TITLE} (unsafe: {'; '.join(missing)})"


def plan(request: Request, adapter: Adapter, document_plan: DocumentPlan, text: str, ttl: int,
         shared: bool = False) -> Fix | None:
    """The token-first fix for one tokenless request, or None when the adapter cannot place one."""
    if request.has_token or request.is_token_fetch or request.wrapper:
        return None
    placement = adapter.placement(request)
    if placement is None:
        return None
    reasons: list[str | None] = [SHARED_WRAPPER if shared else None]
    edits: list[Edit] = []
    variable = adapter.reusable_token(request, placement)
    if variable is None:
        if document_plan.variable is None:
            document_plan.variable = fresh_name(adapter.names_in_use(), text)
        variable = document_plan.variable
        limit = adapter.limit(request)
        fetch = adapter.fetch(request, variable, limit, ttl)
        if fetch is None:
            return None
        statement, reason = fetch
        reasons += [reason, CONDITIONAL if placement.conditional else None, HIDDEN_LIMIT if limit.hidden else None]
        offsets = (*((placement.offset,) if placement.offset is not None else ()), *placement.extra)
        for offset in offsets:
            edits.extend(adapter.insert(placement, offset, statement))
    header = adapter.header(request, variable)
    if header is None:
        return None
    edits.append(header)
    applicability = Applicability.UNSAFE if any(reasons) else Applicability.SAFE
    return Fix(title(reasons), tuple(edits), applicability)
