"""PowerShell documents as the PowerShell front-end leaves them for the PowerShell fixer."""

from __future__ import annotations

from imds_lint.records import dataclass, field
from imds_lint.syntax.treesitter import Ancestry, NodeText


@dataclass(frozen=True, slots=True)
class PowerShellHandle:
    """Where one PowerShell request is written, and in which of three shapes.

    ``kind`` is "cmdlet" (Invoke-RestMethod/Invoke-WebRequest), "argv" (real
    curl/wget), "dotnet" (a WebClient/HttpClient method call) or "webrequest"
    (``[Net.WebRequest]::Create``: headers are set on the request object later).
    """

    kind: str
    command: object  # tree-sitter node of the command or call
    name: object  # the node the finding is anchored on (cmdlet name, method name)
    explicit: bool = False  # -Method written
    headers_param: object | None = None  # the -Headers value, as written
    hash: object | None = None  # ... when it is a hashtable literal
    url_node: object | None = None
    variable: str | None = None  # the .NET client's variable
    client: str | None = None  # "WebClient" | "HttpClient"
    timeout: object | None = None  # the -TimeoutSec value, as written (or a splatted table's TimeoutSec)
    options_hidden: bool = False  # splatted from a table the reader could not see: a -TimeoutSec may hide there
    # The URL's variables also hold addresses that are not IMDS (a helper called for several hosts).
    shared: bool = False
    # The WebClient is also used for another host: the header set on it goes with every later call.
    client_shared: bool = False


@dataclass
class PowerShellState(NodeText):
    """One parsed PowerShell document: tree, text, variables and token variables."""

    tree: object
    src: bytes
    text: str
    ascii: bool
    # Variable (lower-case name) -> assigned value nodes.
    assignments: dict[str, list] = field(default_factory=dict)
    # Variables holding a token from a top-level PUT: name -> end of its statement.
    token_variables: dict[str, int] = field(default_factory=dict)
    variables: set[str] = field(default_factory=set)
    # Computed once per document: callers ask once per request.
    _tops: list | None = field(default=None, init=False, repr=False)
    _ancestry: Ancestry | None = field(default=None, init=False, repr=False)
    # The fixer's once-per-document decisions (the token variable, where fetches go).
    token_plan: PowerShellTokenPlan | None = None

    @property
    def ancestry(self) -> Ancestry:
        """Parents without ``Node.parent`` (which searches down from the root: walking up from depth d
        costs d**2)."""
        if self._ancestry is None:
            self._ancestry = Ancestry(self.tree.root_node)
        return self._ancestry

    def parent(self, node):
        return self.ancestry.parent(node)


@dataclass(slots=True)
class PowerShellTokenPlan:
    """The fixer's once-per-document decision: the name of the script-scope variable its fetches fill."""

    variable: str | None = None
    # Statement list (by byte span) -> the start of the first statement a fetch goes before (filled once).
    fetch_points: dict[tuple[int, int], int] | None = None
    # Node id -> whether a fetch that always runs precedes it, up to its block (filled as requests ask).
    covered: dict[int, bool] = field(default_factory=dict)


def top_level_statements(state: PowerShellState) -> list:
    root = state.tree.root_node
    lists = [c for c in root.named_children if c.type == "statement_list"]
    return [s for sl in lists for s in sl.named_children] or list(root.named_children)


def top_level_statement(state: PowerShellState, node):
    """The top-level statement that holds ``node`` (None outside every one), by bisection over them."""
    if node is None:
        return None
    if state._tops is None:
        state._tops = top_level_statements(state)
    if node.start_byte == node.end_byte:
        # A zero-width node (error recovery) may touch a statement it is not inside: walk up instead.
        spans = {(t.start_byte, t.end_byte) for t in state._tops}
        while node is not None and (node.start_byte, node.end_byte) not in spans:
            node = state.parent(node)
        return node
    return state.ancestry.containing(state._tops, node)
