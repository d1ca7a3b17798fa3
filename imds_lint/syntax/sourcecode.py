"""Application source (JS/TS, Go, Java, C#, Ruby) as the source front-end leaves it for its fixer."""

from __future__ import annotations

from imds_lint.records import dataclass, field
from imds_lint.syntax.treesitter import Ancestry, NodeText, walk  # noqa: F401 (re-exported for the fixer)


@dataclass(frozen=True, slots=True)
class SourceHandle:
    """The shape of one call, for the fixer.

    ``kind``: "fetch" / "axios-get" / "go-get" (one expression with a literal
    URL, rewritten in place), or the language's general shape ("js", "go",
    "java", "csharp", "ruby", or the reader's language name).
    """

    kind: str
    # The variable holding the request object and the node that created it, where there is one.
    variable: str | None = None
    created: object | None = None
    # The URL may name another host on some call (a helper's parameter, a variable assigned several):
    # a token header there would go to that host too.
    shared: bool = False


@dataclass
class SourceState(NodeText):
    """One parsed source file: its language, tree and assignments."""

    language: str
    tree: object
    src: bytes
    text: str
    assignments: dict[str, list] = field(default_factory=dict)
    token_plan: SourceTokenPlan | None = None  # the fixer's once-per-file decisions
    _ancestry: Ancestry | None = field(default=None, init=False, repr=False)
    # (types, node id) -> the nearest node of those types holding it, or None.
    _enclosing: dict = field(default_factory=dict, init=False, repr=False)
    # types -> {(start, end): the first node of those types written exactly there}
    _by_span: dict = field(default_factory=dict, init=False, repr=False)

    def parent(self, node):
        """A node's parent without ``Node.parent`` (which searches down from the root: walking up from
        depth d costs d**2)."""
        if self._ancestry is None:
            self._ancestry = Ancestry(self.tree.root_node)
        return self._ancestry.parent(node)

    def enclosing(self, node, types):
        """The nearest node whose type is in ``types`` holding ``node`` (``node`` itself included), or None.

        Remembered for every node walked through: walks up from requests at every level of n nested
        blocks share their ancestors, so each is walked once (n * depth steps otherwise).
        """
        known, walked = self._enclosing, []
        while node is not None and node.type not in types:
            found = known.get((types, node.id), walked)
            if found is not walked:
                node = found
                break
            walked.append(node.id)
            node = self.parent(node)
        for step in walked:
            known[(types, step)] = node
        return node

    def node_at(self, span, types: tuple[str, ...]):
        """The first node (in walk order) of a type in ``types`` written exactly at ``span``, or None:
        one index per file and set of types, so a request's lookup is not a walk of the tree."""
        index = self._by_span.get(types)
        if index is None:
            index = self._by_span[types] = {}
            for node in walk(self.tree.root_node):
                if node.type in types:
                    written = self.span(node)
                    index.setdefault((written.start, written.end), node)
        return index.get((span.start, span.end))


@dataclass(slots=True)
class SourceTokenPlan:
    """The fixer's once-per-file decisions: the token helper's name and the address it asks."""

    variable: str | None = None
    url: str | None = None  # Go: the address the helper asks (its first request's)
    # JavaScript: where the helper goes (-1: nowhere), a helper an earlier fix wrote ("" none), fetch or axios.
    at: int | None = None
    existing: str | None = None
    axios: bool = False
    # Go: how the helper reads a body and the import edits it needs (the file's imports, read once).
    go_imports: tuple | None = None
