"""Token-first rewrites for shell scripts.

One token per script: a ``NAME="$(curl -sS -X PUT .../latest/api/token ...)"``
line before the first top-level statement that needs it (or an existing token
variable, when the script already fetches one before that point), and the token
header added to each tokenless request right after the client's name, where it
cannot change how the other arguments are read.
"""

from __future__ import annotations

import functools

from imds_lint import clients
from imds_lint.fixers import NoFixes
from imds_lint.model import TOKEN_PATH, Applicability, Edit, Fix, Header, Request
from imds_lint.protocol import TOKEN_HEADER_NAME
from imds_lint.syntax.shell import ShellHandle, ShellState, ShellTokenPlan, top_level_statement

_VARIABLE_BASE = "IMDS_TOKEN"


def _base_url(request: Request) -> str:
    scheme = "https" if request.url.lower().startswith("https://") else "http"
    return f"{scheme}://{request.endpoint}"


class ShellFixer(NoFixes):
    def add_token(self, request: Request, analysis, ttl: int) -> Fix | None:
        state = analysis.state
        handle = request.handle
        if not isinstance(state, ShellState) or not isinstance(handle, ShellHandle) or request.has_token:
            return None
        client = handle.client
        statement = top_level_statement(state, handle.command)
        if statement is None:
            return None
        statement_span = state.span(statement)

        variable = _reusable_token(state, statement_span.start)
        edits: list[Edit] = []
        applicability = Applicability.SAFE
        if variable is None:
            # Once per document, not per request: a script with thousands of requests stays linear.
            # The same token fetch, from the first request that needs one, serves them all.
            plan = state.token_plan
            if plan is None:
                fresh = _fresh_name(state, analysis)
                first_statement, first_request = _first_needing_token(analysis, state)
                plan = state.token_plan = ShellTokenPlan(
                    fresh, first_statement, _token_fetch(analysis, first_request or request, fresh, ttl))
            variable = plan.variable
            first = plan.first or statement
            if plan.preamble is None:
                return None
            fetch, fetch_applicability = plan.preamble
            if fetch_applicability is Applicability.UNSAFE:
                applicability = Applicability.UNSAFE
            edits.append(_insert_before(analysis.document, state.span(first).start, fetch))

        entry = clients.for_family(client)
        header = entry.spell_header(TOKEN_HEADER_NAME, f"${variable}") if entry is not None else None
        if header is None:
            return None
        # After the client's name, where it cannot change how the other arguments are read
        # (HTTPie's request items go after the URL instead).
        at = state.span(handle.command if entry.header_at_end else handle.name).end
        edits.append(Edit(at, at, header))
        if handle.shared:
            # The wrapper also serves callers that do not talk to IMDS; they would get the header too.
            applicability = Applicability.UNSAFE
        return Fix("Fetch an IMDSv2 token first and send it with this request", tuple(edits), applicability)

    def add_put_method(self, request: Request) -> Fix | None:
        handle = request.handle
        if not isinstance(handle, ShellHandle):
            return None
        state_end = request.anchor.end
        entry = clients.for_family(handle.client)
        flag = entry.put_option if entry is not None else None
        if flag is None:
            return None
        edits = [Edit(state_end, state_end, flag)]
        method_span = handle.method_span
        if method_span is not None:
            # An explicit -X GET is replaced, not contradicted.
            edits = [Edit(method_span.start, method_span.end, flag.strip())]
        return Fix("Send the token request as PUT", tuple(edits), Applicability.SAFE)

    def add_header(self, request: Request, name: str, value: str) -> Fix | None:
        handle = request.handle
        if not isinstance(handle, ShellHandle):
            return None
        entry = clients.for_family(handle.client)
        text = entry.spell_header(name, value) if entry is not None else None
        if text is None:
            return None
        at = request.span.end if entry.header_at_end else request.anchor.end
        return Fix(f"Send {name}: {value}", (Edit(at, at, text),), Applicability.SAFE)

    def remove_header(self, request: Request, header: Header) -> Fix | None:
        if header.span is None:
            return None
        text = request.document.text
        start = header.span.start
        # Take the separating blanks before the flag with it; stop at a line continuation.
        while start > 0 and text[start - 1] in " \t":
            start -= 1
        return Fix(f"Remove the {header.name} header", (Edit(start, header.span.end, ""),), Applicability.UNSAFE)


def _token_fetch(analysis, request: Request, variable: str, ttl: int) -> tuple[str, Applicability] | None:
    url = f"{_base_url(request)}{TOKEN_PATH}"
    families = {r.handle.client for r in analysis.requests if isinstance(r.handle, ShellHandle)}
    entry = clients.token_fetch_for(families)
    if entry is None:
        return None
    command = entry.token_fetch_command(url, ttl)
    return f'{variable}="$({command})"', Applicability.UNSAFE if entry.token_fetch_unsafe else Applicability.SAFE


# Embedded scripts written as one quoted line stay one line: `bash -c 'a; b'`.
_QUOTED_LABELS = {"shell string", "ssh remote command"}


@functools.lru_cache(maxsize=2)  # small: each entry keeps a document text alive
def _newline_after(text: str, offset: int) -> str:
    """How the line holding ``offset`` ends. Cached: every request of a document asks it for the
    same statement, and on a 4 MB line each search is the whole line."""
    line_end = text.find("\n", offset)
    return "\r\n" if line_end > 0 and text[line_end - 1] == "\r" else "\n"


def _insert_before(document, offset: int, statement: str) -> Edit:
    text = document.text
    # Only the blanks before the statement are read: on a long line, slicing from its start for
    # each of its requests would be quadratic.
    line_start = offset
    while line_start > 0 and text[line_start - 1] in " \t":
        line_start -= 1
    blank = line_start == 0 or text[line_start - 1] == "\n"
    prefix = text[line_start:offset]
    if blank and not (document.label in _QUOTED_LABELS and "\n" not in text.rstrip("\r\n")):
        newline = _newline_after(text, offset)
        return Edit(offset, offset, f"{statement}{newline}{prefix}")
    return Edit(offset, offset, f"{statement}; ")


def _first_needing_token(analysis, state):
    """The first top-level statement holding a tokenless request, and that request."""
    best = None
    for request in analysis.requests:
        if request.has_token or request.wrapper or request.is_token_fetch or not isinstance(request.handle, ShellHandle):
            continue
        statement = top_level_statement(state, request.handle.command)
        if statement is not None and (best is None or statement.start_byte < best[0].start_byte):
            best = (statement, request)
    return best if best is not None else (None, None)


def _reusable_token(state, statement_start: int) -> str | None:
    for name, end in sorted(state.token_variables.items(), key=lambda kv: kv[1]):
        if end <= statement_start:
            return name
    return None


def _fresh_name(state, analysis) -> str:
    taken = set(state.variables)
    doc = analysis.document
    name, n = _VARIABLE_BASE, 1
    while name in taken or f"${name}" in doc.text or f"${{{name}" in doc.text:
        n += 1
        name = f"{_VARIABLE_BASE}_{n}"
    return name


FIXER = ShellFixer()
