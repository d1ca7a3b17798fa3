"""Token-first rewrites for PowerShell: the PowerShell adapter of the one token plan (``token_plan``).

The token is fetched by a guarded statement in the block that runs the request
(the function, script block, loop body or ``try`` around it; never where a
script is dot-sourced unless the request itself runs there):

    if ($null -eq (Get-Variable -Name IMDS_TOKEN -Scope Script -ValueOnly -ErrorAction Ignore)) {
        try {
            $script:IMDS_TOKEN = Invoke-RestMethod -Method PUT -Uri .../latest/api/token -TimeoutSec 2 -ErrorAction Stop -Headers @{
                'X-aws-ec2-metadata-token-ttl-seconds' = '21600'
            }
        } catch {
            $script:IMDS_TOKEN = ''
        }
    }

(on one line inside a line or an embedded script, such as a Dockerfile RUN).
It runs once per script (script scope; the guard reads it without
tripping ``Set-StrictMode``), carries the request's own ``-TimeoutSec``, and
never stops the script: a failed fetch leaves the token empty and the request
goes out as before. The request gets ``-Headers @{'X-aws-ec2-metadata-token'
= $script:IMDS_TOKEN}`` right after the cmdlet name (or the entry merged into
the hashtable it already passes); a ``WebClient`` held in a variable gets its
header set just before the statement that uses it.

No PowerShell runtime can be installed here, so none of these rewrites has run
in the three worlds: they are all unsafe and say so (``Unproven.NOT_RUN_POWERSHELL``).
The protocol fixes (``-Method PUT``, the TTL header on a token request) stay
safe: they change only a request to the token path that fails in every world.
"""

from __future__ import annotations

from imds_lint.fixers import NoFixes, token_plan
from imds_lint.fixers.token_plan import Fetch, Limit, Placement, Unproven
from imds_lint.model import Applicability, Edit, Fix, Header, Request
from imds_lint.protocol import TOKEN_HEADER_NAME, TTL_HEADER_NAME
from imds_lint.syntax.powershell import PowerShellHandle, PowerShellState, PowerShellTokenPlan, top_level_statement

# Blocks whose statements run when the code holding them is called, not where it is written:
# a request inside them never gets a fetch outside them.
_SCOPES = {"function_statement", "script_block", "script_block_expression", "param_block", "class_method_definition"}
# Operators after which an operand runs only on some paths.
_SHORT_CIRCUIT = {"-and", "-or", "pipeline_chain_tail"}


class PowerShellFixer(NoFixes):
    def add_token(self, request: Request, analysis, ttl: int) -> Fix | None:
        state = analysis.state
        handle = request.handle
        if not isinstance(state, PowerShellState) or not isinstance(handle, PowerShellHandle) or request.has_token:
            return None
        if handle.kind not in ("cmdlet", "dotnet") or (handle.kind == "cmdlet" and handle.hash is None
                                                      and handle.headers_param is not None):
            return None
        if handle.kind == "dotnet" and not (handle.variable and handle.client == "WebClient"):
            return None
        if state.token_plan is None:
            state.token_plan = PowerShellTokenPlan()
        return token_plan.plan(request, PowerShellAdapter(state, analysis), state.token_plan, analysis.document.text,
                               ttl, shared=handle.shared)

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


class PowerShellAdapter(token_plan.ScriptAdapter):
    """What the token plan needs to know about one PowerShell document."""

    name_base, name_join, fold_case = token_plan.VARIABLE_BASE, "_", True
    top_level_statement = staticmethod(top_level_statement)

    def __init__(self, state: PowerShellState, analysis):
        self.state = state
        self.analysis = analysis
        self.text = analysis.document.text

    def unproven(self, request: Request) -> tuple[Unproven, ...]:
        if request.handle.client_shared:
            return (Unproven.SHARED_CLIENT, Unproven.NOT_RUN_POWERSHELL)
        return (Unproven.NOT_RUN_POWERSHELL,)

    # -- where ---------------------------------------------------------------------
    def placement(self, request: Request) -> Placement | Unproven:
        found = _statement_of(request.handle.command, self.state.parent)
        if found is None:
            return Unproven.NO_PLACE
        statement, why = found
        if why is None and self._covered(statement):
            return Placement(None)
        return Placement(self.state.span(statement).start, conditional=why is not None,
                         why=why or Unproven.CONDITIONAL)

    def _fetch_points(self) -> dict[tuple[int, int], int]:
        """Statement list -> the start of the first statement of it that a fetch goes before."""
        plan = self.state.token_plan
        if plan.fetch_points is None:
            points: dict[tuple[int, int], int] = {}
            for other in self.analysis.requests:
                handle = other.handle
                if not isinstance(handle, PowerShellHandle) or other.has_token or other.is_token_fetch \
                        or other.wrapper or self.reusable_token(other, None) is not None:
                    continue
                found = _statement_of(handle.command, self.state.parent)
                if found is None or found[1] is not None:
                    continue
                statement = found[0]
                key = _key(self.state.parent(statement))
                points[key] = min(points.get(key, statement.start_byte), statement.start_byte)
            plan.fetch_points = points
        return plan.fetch_points

    def _covered(self, statement) -> bool:
        """Does a fetch that always runs before ``statement`` precede it, in its list or the lists around
        it, up to the block that holds it (a function may be called from anywhere)?

        The answer for a node is its parent's unless the parent decides it, so each node's answer is
        kept: requests nested n deep cost n steps in all, not n**2."""
        points = self._fetch_points()
        memo = self.state.token_plan.covered
        up = self.state.parent
        chain, node, answer = [], statement, False
        while node is not None:
            known = memo.get(node.id)
            if known is not None:
                answer = known
                break
            chain.append(node)
            parent = up(node)
            if parent is None:
                break
            if parent.type in _SCOPES or parent.type in ("catch_clause", "finally_clause", "elseif_clause",
                                                          "else_clause", "trap_statement"):
                break
            if parent.type == "statement_list":
                first = points.get(_key(parent))
                if first is not None and first < node.start_byte:
                    answer = True
                    break
            node = parent
        for walked in chain:
            memo[walked.id] = answer
        return answer

    # -- what the request carries -------------------------------------------------------
    def limit(self, request: Request) -> Limit:
        handle = request.handle
        value = self.state.source(handle.timeout).strip().strip("'\"") if handle.timeout is not None else None
        if value is not None and not value.isdigit():
            return Limit(hidden=True)  # -TimeoutSec $t: a limit we cannot copy as written
        return Limit(value, None, handle.options_hidden)

    # -- what is written ----------------------------------------------------------------
    def fetch(self, request: Request, variable: str, limit: Limit, ttl: int) -> Fetch:
        timeout = f" -TimeoutSec {limit.total}" if limit.total is not None else ""
        put = f"$script:{variable} = Invoke-RestMethod -Method PUT -Uri {token_plan.token_url(request)}{timeout} " \
              "-ErrorAction Stop -Headers @{"
        ttl_entry = f"'{TTL_HEADER_NAME}' = '{ttl}'"
        guard = f"if ($null -eq (Get-Variable -Name {variable} -Scope Script -ValueOnly -ErrorAction Ignore))"
        failed = f"$script:{variable} = ''"
        self._layout = (guard, put, ttl_entry, failed)
        return Fetch(f"{guard} {{ try {{ {put}{ttl_entry}}} }} catch {{ {failed} }} }}")

    def insert(self, placement: Placement, offset: int, fetch: str) -> list[Edit]:
        line_start = self.text.rfind("\n", 0, offset) + 1
        indent = self.text[line_start:offset]
        if indent.strip() or self.analysis.document.parent is not None:
            # Inside a line (`foreach (...) { irm ... }`) or an embedded script (a Dockerfile RUN): one line.
            return [_insert_line_before(self.text, offset, fetch)]
        # On its own lines, indented as the statement it precedes.
        guard, put, ttl_entry, failed = self._layout
        step = "\t" if "\t" in indent else "    "
        lines = [f"{guard} {{", f"{step}try {{", f"{step * 2}{put}", f"{step * 3}{ttl_entry}", f"{step * 2}}}",
                 f"{step}}} catch {{", f"{step * 2}{failed}", f"{step}}}", "}"]
        return [_insert_line_before(self.text, offset, f"{_newline_at(self.text, offset)}{indent}".join(lines))]

    def header(self, request: Request, variable: str, limit: Limit) -> list[Edit] | None:
        handle = request.handle
        value = f"$script:{variable}" if variable == self.state.token_plan.variable else f"${variable}"
        entry = f"'{TOKEN_HEADER_NAME}' = {value}"
        if handle.kind == "cmdlet":
            hash_node = handle.hash
            if hash_node is None:
                at = self.state.span(handle.name).end
                return [Edit(at, at, f" -Headers @{{{entry}}}")]
            opening = self.state.span(hash_node).start + 2  # after "@{"
            body = self.text[opening:self.state.span(hash_node).end - 1]
            merged = entry if not body.strip() else f" {entry};" if body[:1].isspace() else f"{entry}; "
            return [Edit(opening, opening, merged)]
        # A WebClient in a variable: its header set just before the statement that uses it (after the fetch,
        # which the plan inserts at the same point first).
        found = _statement_of(handle.command, self.state.parent)
        if found is None:
            return None
        line = f"${handle.variable}.Headers['{TOKEN_HEADER_NAME}'] = {value}"
        return [_insert_line_before(self.text, self.state.span(found[0]).start, line)]


def _statement_of(node, up):
    """The statement of the innermost statement list that runs ``node``, and why it does not always
    run ``node`` when it runs (None: it does). None where no such statement is in ``node``'s own block.
    ``up`` gives a node's parent (the document's Ancestry)."""
    why = None
    while node is not None:
        parent = up(node)
        if parent is None:
            break
        if parent.type == "statement_list":
            return node, why
        if parent.type in _SCOPES:
            return None  # a parameter default, or the block's edge: nothing here runs when the request does
        if parent.type == "elseif_clause" and _before_block(parent, node):
            why = why or Unproven.CONDITIONAL
        elif why is None and _after_short_circuit(parent, node):
            why = Unproven.SHORT_CIRCUIT
        node = parent
    return None


def _before_block(parent, node) -> bool:
    for child in parent.children:
        if child.type == "statement_block":
            return False
        if child == node:
            return True
    return False


def _after_short_circuit(parent, node) -> bool:
    for child in parent.children:
        if child == node:
            return False
        if child.type in _SHORT_CIRCUIT:
            return True
    return False


def _key(node) -> tuple[int, int]:
    return (node.start_byte, node.end_byte)


def _insert_line_before(text: str, offset: int, statement: str) -> Edit:
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = text[line_start:offset]
    if prefix.strip():
        return Edit(offset, offset, f"{statement}; ")
    return Edit(offset, offset, f"{statement}{_newline_at(text, offset)}{prefix}")


def _newline_at(text: str, offset: int) -> str:
    """How the line holding ``offset`` ends (inserted lines follow the file's line endings)."""
    line_end = text.find("\n", offset)
    return "\r\n" if line_end > 0 and text[line_end - 1] == "\r" else "\n"


FIXER = PowerShellFixer()
