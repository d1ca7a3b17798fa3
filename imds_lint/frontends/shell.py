"""Shell front-end: bash, sh, dash, zsh and ksh through tree-sitter-bash.

Finds HTTP requests to IMDS made by curl, wget, HTTPie and the metadata wrapper
tools, resolving URLs through variables, ``${VAR:-default}`` and concatenation,
and follows shell hidden in ``bash -c``, ``ssh host '...'``, ``eval`` and
heredocs as embedded documents.
"""

from __future__ import annotations

import re
from functools import lru_cache

from imds_lint.records import dataclass
from imds_lint.syntax.treesitter import parse_within
from imds_lint.endpoints import parse_imds_url
from imds_lint.frontends import Analysis, ParseProblem, installs
from imds_lint.syntax.shell import ShellHandle, ShellState
from imds_lint.syntax.treesitter import ByteOffsets, enclosing, walk
from imds_lint.clients import Arg, ClientCall, headers_of, parse_argv, requests_for
from imds_lint.frontends.container_commands import parse_container_command
from imds_lint.kinds import Kind, classify, sniff
from imds_lint.model import ContainerContext, Document, OffsetMap, Segment, Span, merge_segments
from imds_lint.patterns import lazy

UNKNOWN = "*"
_MAX_RESOLVE_DEPTH = 8
_SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "busybox"}
# Commands that run the rest of their argv as another command.
_PREFIXES = {"sudo", "env", "timeout", "nice", "nohup", "command", "builtin", "exec", "time",
             "stdbuf", "ionice", "chronic", "doas", "unbuffer", "setsid", "xargs"}
_PREFIX_ARG_OPTS = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-T", "-U"},
    "env": {"-u", "-C", "-S"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "nice": {"-n", "--adjustment"},
    "stdbuf": {"-i", "-o", "-e"},
    "ionice": {"-c", "-n", "-p"},
    "xargs": {"-I", "-n", "-P", "-L", "-d", "-E", "-s", "-a"},
}


@lru_cache(maxsize=1)
def _parser():
    # Imported here so runs that never meet a shell candidate never load the grammar.
    from imds_lint.syntax.treesitter import core, grammar

    tree_sitter = core()

    return tree_sitter.Parser(tree_sitter.Language(grammar("tree_sitter_bash")))


# tree-sitter-bash 0.23-0.25 segfaults on some code points from U+40000 up
# (unassigned and private-use planes) after "{"; found by fuzzing. The parser
# gets a copy with those (and lone surrogates) masked by ASCII of the same
# UTF-8 length, so byte offsets are unchanged; node text comes from the real bytes.
_UNSAFE_FOR_PARSER = lazy("[\U00040000-\U0010ffff\ud800-\udfff]")


def _mask(match: re.Match) -> str:
    return "?" * (4 if ord(match.group(0)) > 0xFFFF else 3)


# tree-sitter-bash reads a lone `/`, `*`, `+`, `-` or `%` after a unary test operator (`[ -d / ]`)
# as arithmetic, swallows the `]` and gives up on the line, though bash reads the test as
# written. The parser sees `.` there instead (the same length; node text comes from the real bytes).
_LONE_TEST_OPERAND = lazy(r"(\[\[?[ \t]+(?:![ \t]+)?-[A-Za-z][ \t]+)[/*+%-](?=[ \t]+\]\]?)")


def parse(text: str):
    """Parse shell text; CR of CRLF becomes a space so byte offsets stay put."""
    clean = text.replace("\r\n", " \n")
    src = clean.encode("utf-8", "surrogatepass")
    parse_src = src
    parse_text = clean
    if "[" in clean and _LONE_TEST_OPERAND.search(clean):
        parse_text = _LONE_TEST_OPERAND.sub(lambda m: m.group(1) + ".", parse_text)
    if not clean.isascii() and _UNSAFE_FOR_PARSER.search(clean):
        parse_text = _UNSAFE_FOR_PARSER.sub(_mask, parse_text)
    if parse_text is not clean:
        parse_src = parse_text.encode("utf-8")
    return parse_within(_parser(), parse_src), src


# Programs whose heredoc is a shell script (they are, or start, a shell).
_SHELL_RUNNERS = frozenset({"bash", "sh", "dash", "zsh", "ksh", "ash", "mksh", "busybox", "ssh", "sudo", "su",
                            "runuser", "chroot", "nsenter", "docker", "podman", "nerdctl", "lxc", "env", "nohup",
                            "time", "timeout", "setsid", "script", "eval", "source", "."})


class _Scope:
    """Assignments seen anywhere in the script, flow-insensitively, plus inherited ones."""

    def __init__(self, inherited: dict[str, list] | None = None):
        self.values: dict[str, list] = {k: list(v) for k, v in (inherited or {}).items()}

    def add(self, name: str, node) -> None:
        self.values.setdefault(name, []).append(node)


# Expansions the shell splits into words when they are not quoted.
_SPLIT_EXPANSIONS = {"simple_expansion", "expansion", "command_substitution", "arithmetic_expansion"}
_IFS = lazy(r"[ \t\n]+")
# Stands for a positional parameter while finding the commands that read one.
_PROBE = "\x01positional\x01"
_READS_POSITIONAL = lazy(r"\$\{?[#!]?[1-9@*]")
_MAX_CALL_DEPTH = 6
_PLAIN_WORD = lazy(r"[\w@%+=:,./\[\]-]+")
_MAX_FUNCTION_CALLS = 20_000


@dataclass
class _Call:
    """A user-defined function read for one call: the caller's words are its ``$1`` .. ``$@``."""

    function: object
    args: list[Arg]
    caller: _Call | None = None

    @classmethod
    def probe(cls, function) -> _Call:
        return cls(function, [Arg(f"{_PROBE}{i}", None, False) for i in range(1, 10)])

    @property
    def depth(self) -> int:
        return 1 + (self.caller.depth if self.caller is not None else 0)

    def inside(self, node, only_self: bool = False) -> bool:
        """Whether ``node`` lies in this function or (unless ``only_self``) one of its callers."""
        call = self
        while call is not None:
            if call.function.start_byte <= node.start_byte and node.end_byte <= call.function.end_byte:
                return True
            call = None if only_self else call.caller
        return False

    def positional(self, shift: int) -> dict[str, str]:
        values = [a.value for a in self.args[shift:]]
        named = {str(i): v for i, v in enumerate(values, 1) if i < 10}
        for i in range(len(values) + 1, 10):
            named[str(i)] = ""
        named.update({"@": " ".join(values), "*": " ".join(values), "#": str(len(values))})
        return named


class _Walker:
    def __init__(self, document: Document, session, inherited: dict[str, list] | None = None):
        self.document = document
        self.session = session
        self.tree, self.src = parse(document.text)
        self.state = ShellState(self.tree, self.src, ByteOffsets(document.text, self.src), set())
        self.scope = _Scope(inherited)
        self.analysis = Analysis(document, state=self.state)
        self.children: list[Analysis] = []
        # Function name -> the commands in its body that read its positional parameters.
        self.wrappers: dict[str, list] = {}
        self._resolving: set[str] = set()
        # The function call being read, if any: its own assignments shadow the script's.
        self._call: _Call | None = None
        self._function_locals: dict[int, dict[str, list]] = {}
        self._shifts: dict[int, list[tuple[int, int]]] = {}
        self._calls_left = _MAX_FUNCTION_CALLS
        self._embedded: set[tuple[int, int]] = set()
        # Set while reading the command a `docker run` line runs in its container.
        self.container: ContainerContext | None = document.container

    # -- generic tree helpers ------------------------------------------------
    def text(self, node) -> str:
        return self.state.text(node)

    def span(self, node) -> Span:
        return self.state.span(node)

    walk = staticmethod(walk)

    # -- pass 1: assignments and functions -------------------------------------
    def collect(self) -> None:
        for node in self.walk(self.tree.root_node):
            if node.type == "variable_assignment":
                name = node.child_by_field_name("name")
                value = node.child_by_field_name("value")
                if name is not None:
                    var = self.text(name)
                    self.state.variables.add(var)
                    if value is not None:
                        self.scope.add(var, value)
            elif node.type == "function_definition":
                name = node.child_by_field_name("name")
                if name is not None:
                    self.state.functions[self.text(name)] = node
            elif node.type == "for_statement":
                var = node.child_by_field_name("variable")
                if var is not None:
                    self.state.variables.add(self.text(var))

    # -- resolving words to text ---------------------------------------------
    def resolve(self, node, positional: dict[str, str] | None = None, depth: int = 0) -> str:
        """The text a word stands for, with what cannot be known as ``*``."""
        if depth > _MAX_RESOLVE_DEPTH:
            return UNKNOWN
        kind = node.type
        if kind == "command_name":
            return self.resolve(node.named_children[0], positional, depth + 1) if node.named_children else UNKNOWN
        if kind in ("word", "number", "string_content", "heredoc_content"):
            return _unescape_word(self.text(node)) if kind == "word" else self.text(node)
        if kind == "raw_string":
            return self.text(node)[1:-1]
        if kind == "ansi_c_string":
            return self.text(node)[2:-1]
        if kind in ("string", "concatenation", "translated_string"):
            parts = []
            for child in node.children:
                if child.type == '"':
                    continue
                parts.append(self.resolve(child, positional, depth + 1))
            if kind == "string" and not node.named_children:
                return self.text(node)[1:-1]
            return "".join(parts)
        if kind == "simple_expansion":
            name_node = next((c for c in node.named_children), None)
            name = self.text(name_node) if name_node is not None else ""
            return self.lookup(name, positional, depth)
        if kind == "expansion":
            return self.resolve_expansion(node, positional, depth)
        return UNKNOWN

    def resolve_expansion(self, node, positional, depth) -> str:
        inner = self.text(node)[2:-1]
        match = re.match(r"^[#!]?([A-Za-z_][A-Za-z0-9_]*|[0-9@*])(?:(:?[-=?+])(.*))?$", inner, re.S)
        if match is None:
            return UNKNOWN
        name, op, default = match.groups()
        value = self.lookup(name, positional, depth)
        if op in (":-", "-", ":=", "=") and value == UNKNOWN and default is not None:
            default_nodes = [c for c in node.named_children if c.type not in ("variable_name", "special_variable_name")]
            if default_nodes:
                return "".join(self.resolve(c, positional, depth + 1) for c in default_nodes)
            return default.strip("'\"")
        return value

    def lookup(self, name: str, positional: dict[str, str] | None, depth: int) -> str:
        if positional is not None and name in positional:
            return positional[name]
        if name in self._resolving:
            return UNKNOWN
        call = self._call
        local = self.function_locals(call.function).get(name) if call is not None else None
        values = local or self.scope.values.get(name)
        if not values:
            return UNKNOWN
        self._resolving.add(name)
        try:
            resolved = []
            for value in values:
                if isinstance(value, str):
                    resolved.append(value)
                    continue
                if local:  # `local url=$1` reads $1 as it was there, before any later shift
                    positional = call.positional(self.shifts_before(call.function, value))
                resolved.append(self.resolve(value, positional, depth + 1))
        finally:
            self._resolving.discard(name)
        # Prefer a value that names IMDS: one branch of an if/else is enough to reach it.
        for text in resolved:
            if parse_imds_url(text) is not None:
                return text
        # Scope is flow-insensitive: when assignments disagree and one cannot be known, neither
        # can the value (`local ttl=""` then `ttl=$(default_ttl)` is no empty TTL). An empty
        # initialiser gives way to the value assigned later (`SUDO=""`, then `SUDO=sudo`).
        if len(set(resolved)) > 1:
            if UNKNOWN in resolved:
                return UNKNOWN
            return next((text for text in resolved if text), resolved[0])
        return resolved[0]

    # -- pass 2: commands ----------------------------------------------------
    def analyze(self) -> Analysis:
        self.collect()
        self.find_wrapper_functions()
        for node in self.walk(self.tree.root_node):
            if node.type == "command":
                self.command(node)
            elif node.type == "heredoc_redirect":
                self.heredoc(node)
        self.drop_unknown_duplicates()
        self.find_token_variables()
        self.problems()
        return self.analysis

    def drop_unknown_duplicates(self) -> None:
        """A helper read once on its own (``$1`` unknown) and again per call: keep the calls' URLs."""
        known = {r.span for r in self.analysis.requests if UNKNOWN not in r.url}
        self.analysis.requests = [r for r in self.analysis.requests if UNKNOWN not in r.url or r.span not in known]

    def words(self, node, call: _Call | None = None) -> list[Arg]:
        """A command's argv as the shell builds it, the command name first."""
        positional = call.positional(self.shifts_before(call.function, node)) if call is not None else None
        words: list[Arg] = []
        for child in node.children:
            if child.type in ("variable_assignment", "file_redirect", "herestring_redirect", "comment"):
                continue
            if not child.is_named:
                continue
            if child.type == "command_name":
                child = child.named_children[0] if child.named_children else child
            words.extend(self.fields(child, positional, call))
        return words

    def fields(self, node, positional, call: _Call | None) -> list[Arg]:
        """The argv words one source word becomes: ``"$@"`` and ``"${a[@]}"`` fan out, and an
        unquoted expansion is split at blanks (``$CURL $URL`` with CURL="curl -s" runs curl)."""
        fanned = self.fan_out(node, positional, call)
        if fanned is not None:
            return fanned
        value = self.resolve(node, positional)
        literal = node.type in ("word", "raw_string", "string")
        parts = node.children if node.type == "concatenation" else [node]
        if not any(p.type in _SPLIT_EXPANSIONS for p in parts):
            return [Arg(value, node, literal)]
        joined = "".join(_IFS.sub("\0", self.resolve(p, positional)) if p.type in _SPLIT_EXPANSIONS
                         else self.resolve(p, positional) for p in parts)
        split = [f for f in joined.split("\0") if f]
        if split == [value]:
            return [Arg(value, node, literal)]
        # The words exist only in a variable's value: nothing in the source spells them.
        return [Arg(f, None, False, origin=node) for f in split]

    def fan_out(self, node, positional, call: _Call | None) -> list[Arg] | None:
        """``"$@"``, ``$*`` and ``"${name[@]}"``: one word per element; None for any other word."""
        inner = node
        if node.type == "string" and len(node.named_children) == 1:
            inner = node.named_children[0]
        if inner.type not in ("simple_expansion", "expansion") or inner is not node and len(self.text(node)) - len(self.text(inner)) != 2:
            return None
        text = self.text(inner)
        if text in ("$@", "$*", "${@}", "${*}"):
            if call is None:
                return None
            return list(call.args[self.shifts_before(call.function, node):])
        array = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\[[@*]\]\}", text)
        if array is None:
            return None
        values = (call is not None and self.function_locals(call.function).get(array.group(1))
                  or self.scope.values.get(array.group(1)) or [])
        elements = next((v for v in values if not isinstance(v, str) and v.type == "array"), None)
        if elements is None:
            return None
        out: list[Arg] = []
        for element in elements.named_children:
            if element.type != "comment":
                out.extend(self.fields(element, positional, call))
        return out

    def command(self, node, call: _Call | None = None) -> None:
        words = self.words(node, call)
        if not words:
            return
        name_node = node.child_by_field_name("name")
        # curl.exe: Windows images run shell-form bodies through cmd, which reads alike.
        program = words[0].value.rsplit("/", 1)[-1].removesuffix(".exe")
        program, args, word = _strip_prefixes_at(program, words[1:])
        if program is None:
            return
        word = word or words[0]
        if call is None and installs.is_installer(program):
            installs.record_command(self.analysis, self.document.text, program,
                                    [installs.Word(a.value, self.literal_word(a)) for a in args], self.span(node))
        if program in self.wrappers:
            self.call_function(program, args, call)
            return
        # After sudo/timeout/env the client is a later word: anchor (and fix) there. A function
        # that runs its arguments (retry curl ...) runs the command its caller spelled out.
        site, shared, fixable = node, call is not None, True
        source = word.ref if word.ref is not None else word.origin
        if source is not None:
            site = enclosing(source, "command", self.state.ancestry.parent) or node
            shared = call is not None and call.inside(site)
        if word.ref is None and word.origin is not None:
            # $MD/instance-id with MD="curl -s http://...": a header can follow the word only when
            # the value is plain words (an embedded script re-parses `&&`, quotes and `;` in it).
            fixable = all(_PLAIN_WORD.fullmatch(a.value) for a in words if a.origin is word.origin)
        client_word = source if source is not None else name_node
        self.client(site, client_word, program, args, call, shared=shared, fixable=fixable)

    def client(self, node, name_node, program, args, call: _Call | None, shared=False, fixable=True) -> None:
        parsed = parse_argv(program, args)
        if parsed is not None:
            self.emit(parsed, node, name_node, args, shared, fixable)
        elif program in _SHELLS or program in ("su", "runuser"):
            self.shell_string(args, "-c")
        elif program == "ssh":
            self.ssh(args)
        elif program == "eval":
            self.shell_string(args, None)
        elif program in ("docker", "podman", "nerdctl", "finch", "kubectl"):
            self.container_command(node, program, args, call)

    def emit(self, call: ClientCall, node, name_node, args, shared: bool = False, fixable: bool = True) -> None:
        method_span = None
        if call.method_refs:
            refs = [r.ref for r in call.method_refs if r.ref is not None]
            method_span = Span(self.span(refs[0]).start, self.span(refs[-1]).end) if refs else None

        def handle(url: Arg) -> ShellHandle | None:
            if call.wrapper or not fixable:
                return None
            return ShellHandle(node, name_node, call.client, method_span, shared and not self.owns_endpoint(node, url))

        headers = headers_of(call, self.span, self.literal_span)
        self.analysis.requests.extend(requests_for(
            call, self.document, self.span(node), self.span(name_node), self.container, headers=headers,
            handle=handle, path_span=lambda url, path: self.literal_span(url.ref, path)))

    def owns_endpoint(self, command, url: Arg) -> bool:
        """Whether the function around ``command`` itself names IMDS in ``url`` (callers give only
        the path): then a header added there goes to IMDS alone, whoever calls."""
        call = self._call
        while call is not None and not call.inside(command, only_self=True):
            call = call.caller
        if call is None or url.ref is None or not call.inside(url.ref, only_self=True):
            return False
        outer, self._call = self._call, _Call.probe(call.function)
        try:
            text = self.resolve(url.ref, self._call.positional(0))
        finally:
            self._call = outer
        return parse_imds_url(text) is not None

    def literal_word(self, arg: Arg) -> Span | None:
        """The span of an argument's value where the source spells it out (bare or quoted)."""
        if arg.ref is None:
            return None
        source, span = self.text(arg.ref), self.span(arg.ref)
        if source == arg.value:
            return span
        if len(source) >= 2 and source[0] == source[-1] and source[0] in "'\"" and source[1:-1] == arg.value:
            return Span(span.start + 1, span.end - 1)
        return None

    def literal_span(self, ref, needle: str) -> Span | None:
        """Where ``needle`` is written in the source of ``ref``, when it is there exactly once."""
        if ref is None or not needle or UNKNOWN in needle:
            return None
        source = self.text(ref)
        first = source.find(needle)
        if first == -1 or source.find(needle, first + 1) != -1:
            return None
        start = self.span(ref).start + len(source[:first])
        return Span(start, start + len(needle))

    # -- functions that run a client on their arguments -------------------------
    def find_wrapper_functions(self) -> None:
        """Functions with commands that read their positional parameters, however they are named:
        ``get() { local url=$1; curl -fsS "$url"; }``, ``retry() { "$@"; }``. A call re-reads
        those commands with the caller's words in place of ``$1`` / ``"$@"``."""
        for name, fn in self.state.functions.items():
            if not _READS_POSITIONAL.search(self.text(fn)):
                continue
            self._call = _Call.probe(fn)
            try:
                readers = [node for node in self.walk(fn) if node.type == "command"
                           and any(_PROBE in a.value for a in self.words(node, self._call))]
            finally:
                self._call = None
            if readers:
                self.wrappers[name] = readers

    def function_locals(self, fn) -> dict[str, list]:
        cached = self._function_locals.get(fn.start_byte)
        if cached is None:
            cached = {}
            for node in self.walk(fn):
                if node.type == "variable_assignment":
                    name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
                    if name is not None and value is not None:
                        cached.setdefault(self.text(name), []).append(value)
            self._function_locals[fn.start_byte] = cached
        return cached

    def shifts_before(self, fn, node) -> int:
        """How many positional parameters ``shift`` drops before ``node`` in ``fn`` (in text order)."""
        shifts = self._shifts.get(fn.start_byte)
        if shifts is None:
            shifts = []
            for other in self.walk(fn):
                name = other.child_by_field_name("name") if other.type == "command" else None
                if name is not None and self.text(name) == "shift":
                    amount = [self.text(c) for c in other.children if c.is_named and c != name]
                    shifts.append((other.start_byte, int(amount[0]) if amount and amount[0].isdigit() else 1))
            self._shifts[fn.start_byte] = shifts
        return sum(amount for start, amount in shifts if start < node.start_byte)

    def call_function(self, function: str, call_args: list[Arg], caller: _Call | None) -> None:
        fn = self.state.functions[function]
        if self._calls_left <= 0 or (caller is not None and (caller.depth >= _MAX_CALL_DEPTH or caller.inside(fn))):
            return
        self._calls_left -= 1
        call = _Call(fn, call_args, caller)
        outer, self._call = self._call, call
        try:
            for node in self.wrappers[function]:
                self.command(node, call)
        finally:
            self._call = outer

    # -- embedded documents ----------------------------------------------------
    def shell_string(self, args: list[Arg], flag: str | None) -> None:
        """``bash -c 'script'``, ``su -c "..."``, ``eval '...'``: the string is a script."""
        target = None
        if flag is None:
            target = args[0] if len(args) == 1 else None
        else:
            for i, arg in enumerate(args):
                if arg.value == flag or (arg.value.startswith("-") and not arg.value.startswith("--") and arg.value.endswith(flag[1])):
                    target = args[i + 1] if i + 1 < len(args) else None
                    break
        if target is not None and target.ref is not None:
            self.embed_string(target.ref, label="shell string")

    def ssh(self, args: list[Arg]) -> None:
        """``ssh [options] host 'command'``: the remote command is a script."""
        with_arg = set("bcDEeFIiJLlmOopQRSWw")
        positional = []
        i = 0
        while i < len(args):
            word = args[i].value
            if word.startswith("-") and not positional:
                if len(word) == 2 and word[1] in with_arg:
                    i += 1
                i += 1
                continue
            positional.append(args[i])
            i += 1
        if len(positional) == 2 and positional[1].ref is not None:
            self.embed_string(positional[1].ref, label="ssh remote command")

    def container_command(self, node, program: str, args: list[Arg], call: _Call | None) -> None:
        """``docker run IMAGE curl ...``: the command runs in a container, on its network."""
        started = parse_container_command(program, args)
        if started is None:
            return
        image = started.image
        if image is not None and image.ref is not None and re.fullmatch(r"(?:.*/)?curl(?::[\w.-]+)?", image.value):
            # curlimages/curl: the image's entrypoint is curl, the command its arguments.
            first, inner, rest = image, "curl", started.command
        elif started.command and started.command[0].ref is not None:
            first = started.command[0]
            inner = first.value.rsplit("/", 1)[-1].removesuffix(".exe")
            inner, rest = _strip_prefixes(inner, started.command[1:])
        else:
            return
        if inner is None:
            return
        outer = self.container
        self.container = ContainerContext(started.description, started.network)
        try:
            self.client(node, first.ref, inner, rest, call)
        finally:
            self.container = outer

    def embed_string(self, node, label: str) -> None:
        variable = self.expanded_variable(node)
        if variable is not None:
            # eval "$CMD", ssh host "$CMD": the script is the string assigned to CMD.
            call = self._call
            values = (call is not None and self.function_locals(call.function).get(variable)
                      or self.scope.values.get(variable) or [])
            for value in values:
                if not isinstance(value, str) and value.type in ("string", "raw_string"):
                    self.embed_string(value, label)
            return
        key = (node.start_byte, node.end_byte)
        if key in self._embedded:  # a wrapper's script, reached once per call
            return
        self._embedded.add(key)
        embedded = quoted_document(self.document, self.state, node, label)
        if embedded is not None:
            embedded.container = self.container
            self.children.extend(analyze_shell(embedded, self.session, inherited=self.exported()))

    def expanded_variable(self, node) -> str | None:
        """The name in a word that is nothing but one variable: ``$CMD``, ``"${CMD}"``."""
        if node.type == "string" and len(node.named_children) == 1 and len(self.text(node)) == len(self.text(node.named_children[0])) + 2:
            node = node.named_children[0]
        match = re.fullmatch(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})", self.text(node))
        return (match.group(1) or match.group(2)) if match is not None else None

    def heredoc(self, node) -> None:
        body = next((c for c in node.children if c.type == "heredoc_body"), None)
        start = next((c for c in node.children if c.type == "heredoc_start"), None)
        if body is None or start is None:
            return
        quoted = any(q in self.text(start) for q in ("'", '"', "\\"))
        span = self.span(body)
        text = self.document.text[span.start:span.end]
        kind = self.heredoc_kind(node, text)
        if quoted:
            embedded = self.document.embed(kind, text, OffsetMap.shifted(span.start, len(text)), label="heredoc")
        else:
            # The outer shell expands and unescapes an unquoted heredoc before anyone reads it.
            inner, offsets = _unescaped(text, span.start, "\\$`\n")
            embedded = self.document.embed(kind, inner, offsets, escape=_escape_unquoted_heredoc, label="heredoc")
        if kind == Kind.SHELL:
            self.children.extend(analyze_shell(embedded, self.session, inherited=self.exported()))
        else:
            self.children.extend(self.session.analyze(embedded))

    def heredoc_kind(self, node, text: str) -> str:
        """What a heredoc body is: the language of the program reading it, or of the file
        ``cat``/``tee`` write it to (``cat > probe.php <<'X'`` is PHP, not shell).

        Bodies handed to a shell or to something that runs one (``bash``, ``ssh host``,
        ``sudo -u x sh``, ``docker exec -i c sh``) stay shell; other programs' input is read
        for what it says it is, else as text.
        """
        statement = node.parent
        command = next((c for c in statement.named_children if c.type == "command"), None) if statement else None
        name = command.child_by_field_name("name") if command is not None else None
        program = self.text(name).rsplit("/", 1)[-1] if name is not None else ""
        if program.startswith("python"):
            return Kind.PYTHON
        if program in ("pwsh", "powershell"):
            return Kind.POWERSHELL
        if program in _SHELL_RUNNERS:
            return Kind.SHELL
        if program not in ("cat", "tee"):
            # Input for another program (kubectl apply -f -, kind, mysql...): its own format.
            return sniff(text) or Kind.UNKNOWN
        target = None
        if program == "tee" and command is not None:
            target = next((self.text(a) for a in command.named_children[1:] if not self.text(a).startswith("-")), None)
        for child in statement.named_children:
            if child.type == "file_redirect" and child.named_children:
                target = self.text(child.named_children[-1])
        if target is None:
            return sniff(text) or Kind.UNKNOWN  # data for a pipe or a $(...): read as text
        return classify(target.strip("'\""), text)

    def exported(self) -> dict[str, list]:
        """Variables as resolved text, for scripts embedded in this one (they see the outer values)."""
        return {name: [self.lookup(name, None, 0)] for name in self.scope.values}

    # -- facts for the fixer -----------------------------------------------------
    def find_token_variables(self) -> None:
        """Top-level ``VAR=$(curl -X PUT .../latest/api/token ...)``: a token later requests can reuse.

        Only where the variable provably holds the PUT's body: the value is the
        command substitution alone, holding that one command, which writes its
        body to stdout and nothing else (no ``-o``, ``-w``, ``-i``, no ``; echo $?``).
        """
        token_spans = {r.span: r for r in self.analysis.requests if r.is_token_fetch and r.method == "PUT"}
        for statement in self.tree.root_node.named_children:
            for node in self.walk(statement):
                if node.type != "variable_assignment":
                    continue
                value = node.child_by_field_name("value")
                name = node.child_by_field_name("name")
                if value is None or name is None:
                    continue
                substitution = value.named_children[0] if value.type == "string" and len(value.named_children) == 1 \
                    else value
                if substitution.type != "command_substitution" or len(substitution.named_children) != 1:
                    continue
                inner = substitution.named_children[0]
                request = token_spans.get(self.span(inner)) if inner.type == "command" else None
                if request is not None and _writes_body_only(request.handle.client, [self.text(a) for a in inner.named_children[1:]]):
                    self.state.token_variables.setdefault(self.text(name), self.span(statement).end)

    def problems(self) -> None:
        root = self.tree.root_node
        if not root.has_error:
            return
        for node in self.walk(root):
            if node.type == "ERROR" or node.is_missing:
                what = f"missing {node.type}" if node.is_missing else "unexpected text"
                self.analysis.problems.append(ParseProblem(self.span(node), f"the shell grammar could not parse this ({what})"))


# curl options that send something other than the body to stdout, or the body elsewhere.
_CURL_NOT_BODY = {"-o", "--output", "-O", "--remote-name", "-w", "--write-out", "-i", "--include", "-I", "--head",
                  "-D", "--dump-header", "-v", "--verbose", "--trace", "--trace-ascii"}


def _writes_body_only(client: str, words: list[str]) -> bool:
    """Does this token PUT print its body, and only its body, on stdout?"""
    if client == "curl":
        for word in words:
            flag = word.split("=", 1)[0]
            if flag in _CURL_NOT_BODY or re.fullmatch(r"-[a-zA-Z]*[oOwiIDv][a-zA-Z]*", word):
                return False
        return True
    if client == "wget":
        joined = " ".join(words)
        return bool(re.search(r"(?:^|\s)(?:-q?O\s*-|-qO-|--output-document=-)(?:\s|$)", joined))
    return client == "httpie"


def _ref(arg: Arg | None):
    return arg.ref if arg is not None else None


def _strip_prefixes(program: str, args: list[Arg]) -> tuple[str | None, list[Arg]]:
    """``sudo -u x timeout 5 curl ...`` -> ("curl", [...])."""
    program, args, _ = _strip_prefixes_at(program, args)
    return program, args


def _strip_prefixes_at(program: str, args: list[Arg]) -> tuple[str | None, list[Arg], Arg | None]:
    """Like _strip_prefixes, also giving the word that names the real program (None: the command name)."""
    word = None
    seen = 0
    while program in _PREFIXES and seen < 8:
        seen += 1
        takes_value = _PREFIX_ARG_OPTS.get(program, set())
        i = 0
        while i < len(args):
            word = args[i].value
            if program == "env" and "=" in word and not word.startswith("-"):
                i += 1
                continue
            if word.startswith("-"):
                i += 2 if word in takes_value else 1
                continue
            break
        if program == "timeout" and i < len(args):
            i += 1  # the duration
        if i >= len(args):
            return None, [], None
        word = args[i]
        program = word.value.rsplit("/", 1)[-1]
        args = args[i + 1:]
    return program, args, word


_WORD_ESCAPE = re.compile(r"\\(.)", re.S)


def _unescape_word(text: str) -> str:
    return _WORD_ESCAPE.sub(r"\1", text.replace("\\\n", ""))


def _escape_single_quoted(text: str) -> str:
    return text.replace("'", "'\\''")


def _escape_double_quoted(text: str) -> str:
    return re.sub(r'([\\"$`])', r"\\\1", text)


def _escape_unquoted_heredoc(text: str) -> str:
    return re.sub(r"([\\$`])", r"\\\1", text)


def quoted_document(parent: Document, state: ShellState, node, label: str) -> Document | None:
    """The script inside a quoted shell word, with offsets and escaping back to the word."""
    span = state.span(node)
    source = parent.text[span.start:span.end]
    if node.type == "raw_string":
        inner = source[1:-1]
        return parent.embed(Kind.SHELL, inner, OffsetMap.shifted(span.start + 1, len(inner)),
                            escape=_escape_single_quoted, label=label)
    if node.type == "string" and source.startswith('"'):
        inner, offsets = _unescaped(source[1:-1], span.start + 1, '\\"$`\n')
        return parent.embed(Kind.SHELL, inner, offsets, escape=_escape_double_quoted, label=label)
    return None


def _unescaped(body: str, outer_start: int, escapable: str) -> tuple[str, OffsetMap]:
    """Remove the backslashes the outer shell removes, keeping a map back to ``body``."""
    segments, chars = [], []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] in escapable:
            nxt = body[i + 1]
            if nxt != "\n":  # a backslash-newline joins lines and leaves nothing
                segments.append(Segment(len(chars), len(chars) + 1, outer_start + i, outer_start + i + 2))
                chars.append(nxt)
            i += 2
            continue
        segments.append(Segment(len(chars), len(chars) + 1, outer_start + i, outer_start + i + 1))
        chars.append(ch)
        i += 1
    return "".join(chars), OffsetMap(merge_segments(segments) or [Segment(0, 0, outer_start, outer_start)])




def analyze_shell(document: Document, session, inherited: dict[str, list] | None = None) -> list[Analysis]:
    walker = _Walker(document, session, inherited)
    analysis = walker.analyze()
    installs.scan_datadog(analysis, document.text)
    walker.state.release_walk()
    return [analysis, *walker.children]


def analyze(document: Document, session) -> list[Analysis]:
    return analyze_shell(document, session)


def syntax_errors(text: str) -> int:
    """The number of syntax errors in ``text`` (the fix loop compares before and after)."""
    tree, _ = parse(text)
    if not tree.root_node.has_error:
        return 0
    return sum(1 for n in _Walker.walk(tree.root_node) if n.type == "ERROR" or n.is_missing)

