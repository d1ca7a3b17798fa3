"""Token-first rewrites for shell scripts: the shell adapter of the one token plan (``token_plan``).

The token is fetched by a guarded statement in the scope that runs the request,
``: "${IMDS_TOKEN=$(curl -fs --max-time 2 -X PUT .../latest/api/token -H ...)}"``:
it runs only when that code runs (inside the function, never when a library is
sourced), fetches once per process (``${V=...}`` assigns only while V is
unset, so later requests, and a failed fetch, do not fetch again), carries the
request's time limit, and never fails the script (``:`` succeeds; under
``set -e`` nothing aborts). A failed fetch leaves the variable empty, and curl
drops a header with an empty value: the request goes out as it did before. The
token header is added right after the client's name, where it cannot change
how the other arguments are read.
"""

from __future__ import annotations

import functools
import re

from imds_lint import clients
from imds_lint.fixers import NoFixes, token_plan
from imds_lint.fixers.token_plan import Fetch, Limit, Placement, Unproven
from imds_lint.model import Applicability, Edit, Fix, Header, Request
from imds_lint.protocol import TOKEN_HEADER_NAME, TOKEN_PATH
from imds_lint.syntax.shell import ShellHandle, ShellState, ShellTokenPlan, top_level_statement
from imds_lint.syntax.treesitter import walk

# Nodes whose children are statements run one after another: a fetch may go before any of them.
_CONTAINERS = {"program", "compound_statement", "do_group", "subshell", "else_clause"}
# Passing through these runs the request in a child process: a token cached there is lost to the caller.
_SUBSHELLS = {"command_substitution", "process_substitution", "pipeline", "subshell"}
# Expansions that may hold several words, options among them.
_OPTION_EXPANSION = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\[[@*]\]|\$\{?[@*]")
# Our own guarded fetch, recognised on the next pass so every fetch fills the same variable.
_GUARD = re.compile(r': "\$\{([A-Za-z_][A-Za-z0-9_]*)=\$\((?:curl|wget|http)\b[^\n]*' + re.escape(TOKEN_PATH))


class ShellFixer(NoFixes):
    def add_token(self, request: Request, analysis, ttl: int) -> Fix | None:
        state = analysis.state
        handle = request.handle
        if not isinstance(state, ShellState) or not isinstance(handle, ShellHandle) or request.has_token:
            return None
        if state.token_plan is None:
            existing = _GUARD.search(analysis.document.text)
            state.token_plan = ShellTokenPlan(existing.group(1) if existing else None)
        adapter = ShellAdapter(state, analysis)
        return token_plan.plan(request, adapter, state.token_plan, analysis.document.text, ttl, shared=handle.shared)

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


class ShellAdapter(token_plan.ScriptAdapter):
    """What the token plan needs to know about one shell document."""

    name_base, name_join, fold_case = token_plan.VARIABLE_BASE, "_", False
    top_level_statement = staticmethod(top_level_statement)

    def __init__(self, state: ShellState, analysis):
        self.state = state
        self.analysis = analysis
        self.document = analysis.document

    def unproven(self, request: Request) -> tuple[Unproven, ...]:
        return ()

    # -- where ---------------------------------------------------------------------
    def placement(self, request: Request) -> Placement | None:
        found = _statement_of(request.handle.command, self.state.ancestry.parent)
        if found is None:
            return None
        statement, conditional, _, operand = found
        points = self._fetch_points(include_unsafe=self._unsafe(request, conditional))
        if self._covered(statement, points):
            return Placement(None, conditional)
        if operand is not None:
            # `a && curl ...` -> `a && FETCH && curl ...`; `a || curl ...` -> `a || { FETCH; curl ...; }`.
            operator, node = operand
            span = self.state.span(node)
            return Placement(span.start, conditional, chain=(operator, span.end))
        extra = tuple(self.state.span(n).start for n in self._call_sites(statement, conditional)
                      if not self._covered(n, points))
        return Placement(self.state.span(statement).start, conditional, extra)

    def _unsafe(self, request: Request, conditional: bool) -> bool:
        """Whether the plan will call this request's fix unsafe (so only --unsafe-fixes writes its fetch)."""
        handle = request.handle
        fetcher = self._fetch_client(handle.client) if isinstance(handle, ShellHandle) else None
        return (fetcher is None or handle.shared or conditional or fetcher.token_fetch_unsafe is not None
                or self.limit(request).hidden)

    def _fetch_points(self, include_unsafe: bool = False) -> dict[tuple[int, int], int]:
        """Where the fixes of this document put a fetch: statement list -> first such statement's start.

        Only safe fixes' fetches count for a safe fix: a plain --fix does not write the others.
        """
        plan = self.state.token_plan
        if include_unsafe not in plan.fetch_points:
            points: dict[tuple[int, int], int] = {}
            up = self.state.ancestry.parent

            def add(statement) -> None:
                key = _key(up(statement))
                points[key] = min(points.get(key, statement.start_byte), statement.start_byte)

            for other in self.analysis.requests:
                handle = other.handle
                fetcher = self._fetch_client(handle.client) if isinstance(handle, ShellHandle) else None
                if fetcher is None or other.has_token or other.is_token_fetch or other.wrapper:
                    continue
                found = _statement_of(handle.command, up)
                if found is None or found[1] or found[3] is not None or self.reusable_token(other, None) is not None:
                    continue
                if not include_unsafe and self._unsafe(other, False):
                    continue
                add(found[0])
                for call in self._call_sites(found[0], False):
                    add(call)
            plan.fetch_points[include_unsafe] = points
        return plan.fetch_points[include_unsafe]

    def _covered(self, statement, points: dict[tuple[int, int], int]) -> bool:
        """Does a fetch that always runs before ``statement``, in the same shell, precede it?

        Only statements earlier in the same statement list, or in the lists
        around it, up to the enclosing function: a function may be called from
        anywhere. Branches of an ``if`` or ``case`` do not cover each other.
        """
        up = self.state.ancestry.parent
        node = statement
        while node is not None and up(node) is not None:
            parent = up(node)
            if parent.type == "function_definition":
                return False
            first = points.get(_key(parent))
            if first is not None and first < node.start_byte and parent.type not in ("if_statement", "elif_clause"):
                return True
            if parent.type in ("if_statement", "elif_clause") and first is not None and first < node.start_byte \
                    and node.type not in ("elif_clause", "else_clause") and not _before_keyword(parent, node, "then"):
                # An earlier statement of the same branch body.
                return True
            node = parent
        return False

    def _call_sites(self, statement, conditional: bool) -> list:
        """Statements calling the function around ``statement`` in a subshell (``$(f)``, ``f | ...``).

        The function's own fetch would run in that child process each time; a
        guarded fetch before the calling statement fills the variable in the
        caller, once, and the function's fetch then does nothing.
        """
        up = self.state.ancestry.parent
        body = up(statement)
        function = up(body) if body is not None else None
        if conditional or body is None or body.type != "compound_statement" or function is None \
                or function.type != "function_definition":
            return []
        name_node = function.child_by_field_name("name")
        if name_node is None:
            return []
        name = self.state.text(name_node)
        cached = self.state.token_plan.subshell_calls.get(name)
        if cached is None:
            cached = []
            for node in walk(self.state.tree.root_node):
                if node.type != "command":
                    continue
                called = node.child_by_field_name("name")
                if called is None or self.state.text(called) != name or _inside(node, function, up):
                    continue
                found = _statement_of(node, up)
                if found is not None and found[2] and not found[1] and found[3] is None:
                    cached.append(found[0])
            self.state.token_plan.subshell_calls[name] = cached
        return cached

    # -- what the request carries -------------------------------------------------------
    def limit(self, request: Request) -> Limit:
        """The time limits the request's own options set (the client table says which options those are)."""
        entry = clients.for_family(request.handle.client)
        if entry is None or not entry.time_limits:
            return Limit()
        options = dict(entry.time_limits)
        handle = request.handle
        words = [self.state.text(c) for c in handle.command.children if c.is_named]
        # `$CURL ...`, `curl "${opts[@]}" ...`, `curl "$@"`: options we cannot see may set a limit.
        hidden = "$" in self.state.text(handle.name) or any(_OPTION_EXPANSION.search(w) for w in words)
        found: dict[str, str] = {}
        for i, word in enumerate(words):
            option, equals, value = word.partition("=")
            if not equals:
                value = words[i + 1] if i + 1 < len(words) else ""
            kind = options.get(option if option.startswith("--") or not equals else word)
            if kind is not None and re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", value.strip("'\"")):
                found[kind] = value.strip("'\"")
        return Limit(found.get("total"), found.get("connect"), hidden)

    # -- what is written ----------------------------------------------------------------
    def fetch(self, request: Request, variable: str, limit: Limit, ttl: int) -> Fetch | None:
        entry = self._fetch_client(request.handle.client)
        if entry is None:
            return None
        command = entry.token_fetch_command(token_plan.token_url(request), ttl, limit.total, limit.connect)
        return Fetch(f': "${{{variable}=$({command})}}"',
                     Unproven.PUT_FORM_MISSING if entry.token_fetch_unsafe is not None else None)

    def _fetch_client(self, client: str) -> clients.CommandLineClient | None:
        """The client that sends the token PUT for a request made with ``client``.

        The request's own client where it can (it is installed where the
        request runs), else the first the table prefers among the script's.
        """
        plan = self.state.token_plan
        if plan.clients is None:
            plan.clients = frozenset(r.handle.client for r in self.analysis.requests if isinstance(r.handle, ShellHandle))
        own = clients.for_family(client)
        if own is not None and own.token_fetch is not None and not (own.token_fetch_unsafe and "curl" in plan.clients):
            return own
        return clients.token_fetch_for(set(plan.clients) | {client})

    def insert(self, placement: Placement, offset: int, statement: str) -> list[Edit]:
        if placement.chain is not None and offset == placement.offset:
            operator, end = placement.chain
            if operator == "&&":
                return [Edit(offset, offset, f"{statement} && ")]
            return [Edit(offset, offset, "{ " + statement + "; "), Edit(end, end, "; }")]
        return [_insert_before(self.document, offset, statement)]

    def header(self, request: Request, variable: str, limit: Limit) -> list[Edit] | None:
        handle = request.handle
        entry = clients.for_family(handle.client)
        text = entry.spell_header(TOKEN_HEADER_NAME, f"${variable}") if entry is not None else None
        if text is None:
            return None
        # After the client's name, where it cannot change how the other arguments are read
        # (HTTPie's request items go after the URL instead).
        at = self.state.span(handle.command if entry.header_at_end else handle.name).end
        return [Edit(at, at, text)]


def _statement_of(node, up):
    """Where a fetch for the command ``node`` goes, or None where no place is sure.

    Returns (statement, conditional, subshell, operand): the statement of a
    statement list that holds ``node``; whether ``node`` runs only after an
    ``elif`` condition failed (no sure place: the fix is unsafe); whether it
    runs in a child process of that statement; and, when it sits on the right
    of ``&&`` or ``||``, the innermost such operand with its operator: the fetch
    then goes into the chain, so it runs exactly when the request does.
    """
    conditional = subshell = False
    operand = None
    while up(node) is not None:
        parent = up(node)
        kind = parent.type
        if kind in _CONTAINERS:
            return node, conditional, subshell, operand
        if kind in ("if_statement", "elif_clause"):
            if _before_keyword(parent, node, "then"):
                # A condition: it runs whenever the `if` does (an `elif` only when the ones above failed).
                conditional = conditional or kind == "elif_clause"
                node = parent if kind == "if_statement" else up(parent)
                continue
            return node, conditional, subshell, operand
        if kind == "case_item":
            return node, conditional, subshell, operand
        if kind == "list" and operand is None and parent.named_children and node != parent.named_children[0]:
            operator = next((c.type for c in reversed(parent.children[:_index(parent, node)]) if not c.is_named), None)
            if operator in ("&&", "||"):
                operand = (operator, node)
            else:
                conditional = True
        if kind in _SUBSHELLS and operand is None:
            subshell = True
        if kind == "function_definition":
            return None
        node = parent
    return None


def _index(parent, node) -> int:
    for i, child in enumerate(parent.children):
        if child == node:
            return i
    return len(parent.children)


def _key(node) -> tuple[int, int]:
    return (node.start_byte, node.end_byte)


def _before_keyword(parent, node, keyword: str) -> bool:
    for child in parent.children:
        if child.type == keyword:
            return False
        if child == node:
            return True
    return False


def _inside(node, ancestor, up) -> bool:
    while node is not None:
        if node == ancestor:
            return True
        node = up(node)
    return False


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


FIXER = ShellFixer()
