"""One Terraform (or Packer) module as a namespace: the variables, locals and resources of a file and its siblings.

Sibling files (``.tf`` for Terraform, ``.pkr.hcl`` for Packer: each tool loads
only its own from a folder) come through the project index (inside the scan
root, under discovery's rules) and are parsed once per process. No other I/O.
"""

from __future__ import annotations

import os

from imds_lint.frontends.iac import UNKNOWN, Setting
from imds_lint.hcl.tree import Block, HclFile, object_items, string_literal, unwrap

MAX_SIBLINGS = 64
MAX_SIBLING_BYTES = 1_000_000


class HclModule:
    """The variables, locals and resources of a module (this file and its siblings).

    Looked up by name, on first use: most files never look anything up, and a
    sibling file is parsed only when its text holds the name looked for (a file
    that does not contain ``web`` cannot declare ``aws_launch_template.web``;
    labels spelled with ``\\u`` escapes are the exception, so such files are
    always parsed). The first file to declare a name wins: this file, then its
    siblings in name order.
    """

    def __init__(self, own: HclFile, path: str, project=None, sibling_suffix: str = ".tf"):
        self._own, self._path, self._project = own, path, project
        self._suffix = sibling_suffix
        self._folder: _Folder | None = None
        self._found: dict[tuple, object] = {}

    def _files(self, *words: str):
        yield self._own
        if self._folder is None:
            self._folder = (sibling_folder(self._project, self._path, self._suffix)
                            if self._path and self._project else None) or _Folder([])
        own = os.path.abspath(self._path) if self._path else None
        for full, sibling in self._folder.holding(words):
            if full != own:
                yield sibling.file

    def _memo(self, key: tuple, find):
        if key not in self._found:
            self._found[key] = find()
        return self._found[key]

    def variable(self, name: str) -> tuple[HclFile, object] | None:
        def find():
            for file in self._files(name):
                for block in file.blocks():
                    if block.type == "variable" and block.labels and block.labels[0] == name:
                        default = block.attributes().get("default")
                        if default is not None:
                            return file, default
            return None

        return self._memo(("var", name), find)

    def local(self, name: str) -> tuple[HclFile, object] | None:
        def find():
            for file in self._files(name):
                for block in file.blocks():
                    if block.type == "locals":
                        attributes = block.attributes()
                        if name in attributes:
                            return file, attributes[name]
            return None

        return self._memo(("local", name), find)

    def resource(self, rtype: str, name: str) -> Block | None:
        def find():
            for file in self._files(rtype, name):
                for block in file.blocks():
                    if block.type == "resource" and block.labels == [rtype, name]:
                        return block
            return None

        return self._memo(("resource", rtype, name), find)

    def resources_of(self, rtype: str) -> list[Block]:
        """Every resource of one type, the first declaration of each name."""
        def find():
            first: dict[str, Block] = {}
            for file in self._files(rtype):
                for block in file.blocks():
                    if block.type == "resource" and len(block.labels) == 2 and block.labels[0] == rtype:
                        first.setdefault(block.labels[1], block)
            return list(first.values())

        return self._memo(("resources", rtype), find)

    def reference(self, file: HclFile, node) -> tuple[HclFile, object, str] | None:
        """``var.x`` / ``local.x`` -> the expression it stands for."""
        node = unwrap(node)
        if node is None or node.type != "variable_expr":
            return None
        expr = node.parent
        text = file.source(expr).strip() if expr is not None else ""
        parts = text.split(".")
        if len(parts) != 2:
            return None
        lookup = {"var": self.variable, "local": self.local}.get(parts[0])
        found = lookup(parts[1]) if lookup is not None else None
        if found is None:
            return None
        target_file, target = found
        return target_file, target, text

    def value(self, file: HclFile, node, depth: int = 0) -> Setting:
        """A scalar's resolved value; the span only when it is written in place in the document."""
        if node is None:
            return Setting()
        if depth > 6:
            return Setting(UNKNOWN)
        inner = unwrap(node)
        if inner is not None and inner.type == "null_lit":
            return Setting()
        literal = string_literal(file, node)
        if literal is None and inner is not None and inner.type in ("numeric_lit", "bool_lit"):
            literal = file.source(inner)
        if literal is not None:
            return Setting(literal, file.span(node) if file.own and depth == 0 else None)
        ref = self.reference(file, node)
        if ref is not None:
            target_file, target, text = ref
            resolved = self.value(target_file, target, depth + 1)
            return Setting(resolved.value, None, text)
        return Setting(UNKNOWN, None, file.source(node).strip()[:60])

    def object(self, file: HclFile, node, depth: int = 0) -> tuple[HclFile, dict[str, object]] | None:
        items = object_items(file, node)
        if items is not None:
            return file, items
        ref = self.reference(file, node)
        if ref is not None and depth < 6:
            return self.object(ref[0], ref[1], depth + 1)
        return None


class _Sibling:
    """A sibling .tf file: read for every lookup, parsed only for one whose name it holds."""

    __slots__ = ("text", "escaped", "_file")

    def __init__(self, text: str):
        self.text = text
        # Labels spelled with \u escapes may hold any name: such a file is always a candidate.
        self.escaped = "\\u" in text or "\\U" in text
        self._file: HclFile | None = None

    @property
    def file(self) -> HclFile:
        if self._file is None:
            self._file = HclFile(self.text, own=False)
        return self._file


class _Folder:
    """The .tf files of one folder, and which of them can hold each set of names looked up.

    Every file of a folder asks its siblings the same questions (is there an
    ``aws_eks_node_group``? where is ``var.tokens``?): each is answered by one
    pass over the folder's texts, not one per file.
    """

    __slots__ = ("files", "_holding")

    def __init__(self, files: list[tuple[str, _Sibling]]):
        self.files = files
        self._holding: dict[tuple[str, ...], list[tuple[str, _Sibling]]] = {}

    def holding(self, words: tuple[str, ...]) -> list[tuple[str, _Sibling]]:
        found = self._holding.get(words)
        if found is None:
            found = [(full, sibling) for full, sibling in self.files
                     if sibling.escaped or all(word in sibling.text for word in words)]
            if len(self._holding) < 4096:
                self._holding[words] = found
        return found


def sibling_folder(project, path: str, suffix: str = ".tf") -> _Folder | None:
    """The files ending in ``suffix`` of the folder of ``path`` that the project index admits; listed
    and read once per folder state (a file renamed into the folder, as --fix does, changes it)."""
    folder = os.path.dirname(os.path.abspath(path))
    state = project.folder_state(folder)
    if state is None:
        return None
    return project.memo(("hcl siblings", suffix, *state), lambda: _Folder(_list_siblings(project, folder, suffix)))


def _list_siblings(project, folder: str, suffix: str) -> list[tuple[str, _Sibling]]:
    reads = project.texts_in(folder, lambda name: name.endswith(suffix), MAX_SIBLINGS, MAX_SIBLING_BYTES)
    return [(read.path, _Sibling(read.text)) for read in reads]
