"""Token-first rewrites for PowerShell.

One token per script, fetched before the first top-level statement that needs
it (or an existing ``$x = Invoke-RestMethod -Method PUT .../api/token`` reused):

    $IMDS_TOKEN = Invoke-RestMethod -Method PUT -Uri http://169.254.169.254/latest/api/token -Headers @{'X-aws-ec2-metadata-token-ttl-seconds' = '21600'}

then ``-Headers @{'X-aws-ec2-metadata-token' = $IMDS_TOKEN}`` added to each
``Invoke-RestMethod``/``Invoke-WebRequest`` right after the cmdlet name, or the
entry merged into the hashtable it already passes; a ``WebClient`` held in a
variable gets ``$wc.Headers['X-aws-ec2-metadata-token'] = $IMDS_TOKEN`` before
the statement that uses it. Line endings follow the file's.
"""

from __future__ import annotations

from imds_lint.fixers import NoFixes
from imds_lint.model import TOKEN_PATH, Applicability, Edit, Fix, Header, Request
from imds_lint.protocol import TOKEN_HEADER_NAME, TTL_HEADER_NAME
from imds_lint.syntax.powershell import PowerShellHandle, PowerShellState, PowerShellTokenPlan, top_level_statement

_VARIABLE_BASE = "IMDS_TOKEN"


class PowerShellFixer(NoFixes):
    def add_token(self, request: Request, analysis, ttl: int) -> Fix | None:
        state = analysis.state
        handle = request.handle
        if not isinstance(state, PowerShellState) or not isinstance(handle, PowerShellHandle) or request.has_token:
            return None
        statement = top_level_statement(state, handle.command)
        if statement is None:
            return None
        start = state.span(statement).start
        variable = _reusable_token(state, start)
        edits: list[Edit] = []
        if variable is None:
            # Decided once per document: thousands of requests must not make this quadratic.
            plan = state.token_plan
            if plan is None:
                plan = state.token_plan = PowerShellTokenPlan(
                    _fresh_name(state, analysis), _first_statement_needing_token(analysis, state), request.endpoint)
            variable = plan.variable
            first = plan.first or statement
            url = f"http://{plan.endpoint}{TOKEN_PATH}"
            fetch = (f"${variable} = Invoke-RestMethod -Method PUT -Uri {url} "
                     f"-Headers @{{'{TTL_HEADER_NAME}' = '{ttl}'}}")
            edits.append(_insert_line_before(analysis.document.text, state.span(first).start, fetch))
        entry = f"'{TOKEN_HEADER_NAME}' = ${variable}"
        kind = handle.kind
        if kind == "cmdlet":
            hash_node = handle.hash
            if hash_node is not None:
                opening = state.span(hash_node).start + 2  # after "@{"
                body = analysis.document.text[opening:state.span(hash_node).end - 1]
                if not body.strip():
                    merged = entry
                elif body[:1].isspace():
                    merged = f" {entry};"
                else:
                    merged = f"{entry}; "
                edits.append(Edit(opening, opening, merged))
            elif handle.headers_param is None:
                at = state.span(handle.name).end
                edits.append(Edit(at, at, f" -Headers @{{{entry}}}"))
            else:
                return None
        elif kind == "dotnet" and handle.variable and handle.client == "WebClient":
            line = f"${handle.variable}.Headers['{TOKEN_HEADER_NAME}'] = ${variable}"
            edits.append(_insert_line_before(analysis.document.text, start, line))
        else:
            return None
        return Fix("Fetch an IMDSv2 token first and send it with this request", tuple(edits), Applicability.SAFE)

    def add_put_method(self, request: Request) -> Fix | None:
        handle = request.handle
        if not isinstance(handle, PowerShellHandle) or handle.kind != "cmdlet" or handle.explicit:
            return None
        at = request.anchor.end
        return Fix("Send the token request as PUT", (Edit(at, at, " -Method PUT"),), Applicability.SAFE)

    def add_header(self, request: Request, name: str, value: str) -> Fix | None:
        handle = request.handle
        if not isinstance(handle, PowerShellHandle) or handle.kind != "cmdlet" or handle.headers_param is not None:
            return None
        at = request.anchor.end
        return Fix(f"Send {name}: {value}", (Edit(at, at, f" -Headers @{{'{name}' = '{value}'}}"),), Applicability.SAFE)

    def remove_header(self, request: Request, header: Header) -> Fix | None:
        if header.span is None:
            return None
        return Fix(f"Remove the {header.name} header", (Edit(header.span.start, header.span.end, ""),),
                   Applicability.UNSAFE)


def _insert_line_before(text: str, offset: int, statement: str) -> Edit:
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = text[line_start:offset]
    if prefix.strip():
        return Edit(offset, offset, f"{statement}; ")
    line_end = text.find("\n", offset)
    newline = "\r\n" if line_end > 0 and text[line_end - 1] == "\r" else "\n"
    return Edit(offset, offset, f"{statement}{newline}{prefix}")


def _first_statement_needing_token(analysis, state):
    firsts = []
    for request in analysis.requests:
        if request.has_token or request.wrapper or request.is_token_fetch or not isinstance(request.handle, PowerShellHandle):
            continue
        statement = top_level_statement(state, request.handle.command)
        if statement is not None:
            firsts.append(statement)
    return min(firsts, key=lambda n: n.start_byte) if firsts else None


def _reusable_token(state, start: int) -> str | None:
    for name, end in sorted(state.token_variables.items(), key=lambda kv: kv[1]):
        if end <= start:
            return name
    return None


def _fresh_name(state, analysis) -> str:
    taken = {v.lower() for v in state.variables}
    text = analysis.document.text.lower()
    name, n = _VARIABLE_BASE, 1
    while name.lower() in taken or f"${name.lower()}" in text:
        n += 1
        name = f"{_VARIABLE_BASE}_{n}"
    return name


FIXER = PowerShellFixer()
