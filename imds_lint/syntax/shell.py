"""Shell documents as the shell front-end leaves them for the shell fixer."""

from __future__ import annotations

from imds_lint.model import Span
from imds_lint.records import dataclass, field
from imds_lint.syntax.treesitter import Ancestry, ByteOffsets


@dataclass(frozen=True, slots=True)
class ShellHandle:
    """Where one shell request is written: its command node and the word naming the client."""

    command: object  # tree-sitter node of the whole command
    name: object  # tree-sitter node of the word naming the client
    client: str  # "curl", "wget", "httpie", ...
    # The argument of an explicit -X/--method, to be replaced rather than contradicted.
    method_span: Span | None = None
    # A wrapper taking its URL from callers: a header added there goes to every caller's URL.
    shared: bool = False


@dataclass(slots=True)
class ShellTokenPlan:
    """The fixer's once-per-document decision: the name of the token variable its fetches fill."""

    variable: str | None = None
    # For each statement list (keyed by its node's byte span), where the first statement a fetch goes
    # before starts (filled once, on the first request).
    # Keyed first by whether fetches of unsafe fixes count (only for an unsafe fix: a plain --fix
    # does not write them).
    fetch_points: dict[bool, dict[tuple[int, int], int]] = field(default_factory=dict)
    # Function name -> the statements calling it in a subshell (filled on first use).
    subshell_calls: dict[str, list] = field(default_factory=dict)
    clients: frozenset[str] | None = None  # the clients the document's requests use


@dataclass
class ShellState:
    """One parsed shell document: the tree, offsets and the names in use."""

    tree: object
    src: bytes
    offsets: ByteOffsets
    variables: set[str]
    # Variables that hold a token fetched at top level: name -> statement end (chars).
    token_variables: dict[str, int] = field(default_factory=dict)
    functions: dict[str, object] = field(default_factory=dict)
    token_plan: ShellTokenPlan | None = None
    _ancestry: Ancestry | None = field(default=None, repr=False)
    _tops: list | None = field(default=None, repr=False)

    @property
    def ancestry(self) -> Ancestry:
        if self._ancestry is None:
            self._ancestry = Ancestry(self.tree.root_node)
        return self._ancestry

    def release_walk(self) -> None:
        """Drop the ancestor path and statement list the front-end's walk built (rebuilt if a fixer
        asks): a file of n embedded scripts kept n of each, ~7% of a --diff's peak over MIME parts."""
        self._ancestry = self._tops = None

    def top_level(self) -> list:
        if self._tops is None:
            self._tops = list(self.tree.root_node.children)
        return self._tops

    def span(self, node) -> Span:
        return Span(self.offsets.char(node.start_byte), self.offsets.char(node.end_byte))

    def text(self, node) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")


def top_level_statement(state: ShellState, node):
    """The statement directly under the script's root that holds ``node`` (found by bisection:
    walking ``.parent`` up is quadratic in depth)."""
    if node is None or node.id == state.tree.root_node.id:
        return node
    return state.ancestry.containing(state.top_level(), node)
