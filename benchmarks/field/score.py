#!/usr/bin/env python3
"""Score imds-lint against hand labels on a corpus of public repositories.

    python benchmarks/field/score.py [--mirrors /work/.mirror] [--repo OWNER/NAME ...]
                                     [--imds-lint PATH] [--draft FILE] [--keep DIR]

A benchmark run by hand, not a CI test. For every repository in corpus.toml it
looks for a bare mirror (``<mirrors>/<owner>+<name>/repo``, brought in with the
``fetch`` look-up tool; the script says which are missing), `git archive`s the
pinned commit into a temporary folder, runs the installed ``imds-lint --format
json`` on it, and compares the findings with labels.tsv. The temporary trees are
deleted afterwards: none of the repositories' text is kept or committed, only
the references (repo, commit, path, line) and the labels.

Labels: one row per finding and per line that `grep -rIlE` for the metadata
addresses hits, with the verdict of the baseline run (TP found and right, FP
found and wrong, FN missed, TN a hit where nothing is wrong and nothing was
said). The truth the scorer uses is "TP or FN = a finding belongs here". A
finding no row covers is listed as unlabeled and counted as a false positive
until someone reads the code and labels it (``--draft`` writes the rows to fill in).

IMDS001 findings are checked against the file's own interpreter without running
it (``bash -n``, Python ``compile`` for Python 3 files, ``json``, PyYAML's safe
loader, ``tomllib``); the count of IMDS001 on files their interpreter accepts is
printed. The scanned code is never executed or imported.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
GREP_PATTERN = r"169\.254\.169\.254|fd00:ec2::254|instance-data"
# Rule code family -> the category the targets are stated in.
FAMILIES = {
    "IMDS0": "engine",
    "IMDS1": "tokenless",
    "IMDS2": "hop-limit",
    "IMDS3": "enforcement",
    "IMDS4": "dependency",
    "IMDS5": "protocol",
}
REAL = {"TP", "FN"}
VERDICTS = {"TP", "FP", "FN", "TN"}


def category_of(code: str) -> str:
    return FAMILIES.get(code[:5], "other")


@dataclass(frozen=True)
class Repo:
    name: str
    commit: str
    why: str
    held_out: bool = False  # added in session 3 and scored before anything was tuned on it

    @property
    def mirror_name(self) -> str:
        return self.name.replace("/", "+")


@dataclass(frozen=True)
class Label:
    repo: str
    path: str
    line: int
    category: str
    rule: str
    verdict: str
    note: str


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def precision(self) -> float | None:
        found = self.tp + self.fp
        return None if found == 0 else self.tp / found

    def recall(self) -> float | None:
        real = self.tp + self.fn
        return None if real == 0 else self.tp / real


@dataclass
class RepoResult:
    repo: Repo
    findings: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    files_scanned: int = 0
    missing_blobs: int = 0
    imds001_valid: list[tuple[str, int, str]] = field(default_factory=list)
    imds001_unchecked: list[tuple[str, int, str]] = field(default_factory=list)


def read_corpus(path: Path) -> list[Repo]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Repo(r["repo"], r["commit"], r.get("why", ""), bool(r.get("held_out", False)))
            for r in data["repo"]]


def read_labels(path: Path) -> list[Label]:
    labels = []
    with path.open(encoding="utf-8", newline="") as f:
        rows = (row for row in f if row.strip() and not row.startswith("#"))
        for row in csv.DictReader(rows, delimiter="\t"):
            verdict = row["verdict"].strip()
            if verdict not in VERDICTS:
                raise ValueError(f"labels: unknown verdict {verdict!r} in {row}")
            labels.append(Label(row["repo"], row["path"], int(row["line"]), row["category"],
                                row["rule"], verdict, row.get("note", "")))
    return labels


def score(findings: dict[str, list[dict]], labels: list[Label]) -> tuple[dict[str, Tally], list[tuple]]:
    """Tally per category; a finding matches a label on (repo, path, line, category).

    Returns the tallies and the findings no label covers (counted as false positives).
    """
    real: dict[tuple, Label] = {}
    wrong: set[tuple] = set()
    for label in labels:
        key = _key(label.repo, label.path, label.line, label.category)
        if label.verdict in REAL:
            real[key] = label
        else:
            wrong.add(key)
    tallies: dict[str, Tally] = defaultdict(Tally)
    reported: set[tuple] = set()
    unlabeled = []
    for repo, items in findings.items():
        for f in items:
            cat = category_of(f["rule"])
            key = _key(repo, f["path"], f["line"], cat)
            if key in reported:
                continue  # two rules of one family on one line are one place to look at
            reported.add(key)
            if key in real:
                tallies[cat].tp += 1
            else:
                tallies[cat].fp += 1
                if key not in wrong:
                    unlabeled.append((repo, f["path"], f["line"], cat, f["rule"], f["message"]))
    scored_repos = set(findings)
    for key, label in real.items():
        if key[0] in scored_repos and key not in reported:
            tallies[key[3]].fn += 1
    return dict(tallies), unlabeled


def _key(repo: str, path: str, line: int, category: str) -> tuple:
    # A parse error is a verdict on the file: where in it the line is reported (the
    # offending line, or line 1 in older runs) does not make it right or wrong.
    return (repo, path, 0 if category == "engine" else line, category)


# ---- bringing a repository in --------------------------------------------------------------

def git_dir(mirrors: Path, repo: Repo) -> Path | None:
    base = mirrors / repo.mirror_name / "repo"
    for candidate in (base / ".git", base):
        if (candidate / "objects").is_dir():
            return candidate
    return None


def tree_entries(gd: Path, commit: str) -> list[tuple[str, str, str]]:
    """(mode, sha, path) of every blob at the commit (submodules have no blob and are left out)."""
    tree = subprocess.run(["git", f"--git-dir={gd}", "ls-tree", "-r", "-z", commit],
                          capture_output=True, check=True).stdout.decode("utf-8", "surrogateescape")
    entries = []
    for entry in filter(None, tree.split("\0")):
        meta, path = entry.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind == "blob":
            entries.append((mode, sha, path))
    return entries


def extract(gd: Path, commit: str, dest: Path) -> int:
    """Write the commit's files under dest, as `git archive | tar -x` would; return how many
    blobs the snapshot lacks (files of 4 MiB and more are not stored, and `git archive` stops
    at the first missing blob, so the tree is written from `git cat-file --batch`)."""
    entries = tree_entries(gd, commit)
    batch = subprocess.Popen(["git", f"--git-dir={gd}", "cat-file", "--batch"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    def feed() -> None:  # in a thread: the pipe fills long before every object is asked for
        batch.stdin.write(b"".join(sha.encode() + b"\n" for _, sha, _ in entries))
        batch.stdin.close()

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    absent = 0
    root = dest.resolve()
    for mode, sha, path in entries:
        header = batch.stdout.readline().split()
        if header[-1] == b"missing":
            absent += 1
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)  # the newline after each object
        target = dest / path
        if not target.resolve().is_relative_to(root) or ".." in Path(path).parts:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            try:
                target.symlink_to(os.fsdecode(data))
            except OSError:
                pass
            continue
        target.write_bytes(data)
        if mode == "100755":
            target.chmod(0o755)
    feeder.join()
    batch.wait()
    return absent


def grep_hits(root: Path) -> list[tuple[str, int, str]]:
    out = subprocess.run(["grep", "-rInE", GREP_PATTERN, "."], cwd=root, capture_output=True)
    hits = []
    for raw in out.stdout.decode("utf-8", "replace").splitlines():
        path, line, text = raw.split(":", 2)
        hits.append((path.removeprefix("./"), int(line), text.strip()[:160]))
    return hits


# ---- is the file valid to its own interpreter? ---------------------------------------------

def interpreter_accepts(path: Path) -> bool | None:
    """True/False when a strict checker for the file's language is at hand, None otherwise.

    Nothing is executed: ``bash -n`` only parses, ``compile`` only compiles.
    """
    name = path.name.lower()
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = data[:128].decode("utf-8", "replace")
    if name.endswith((".sh", ".bash")) or re.match(r"#!.*\b(ba)?sh\b", head):
        if re.match(r"#!.*\b(zsh|ksh|fish)\b", head):
            return None
        run = subprocess.run(["bash", "-n", str(path)], capture_output=True, timeout=30)
        return run.returncode == 0
    if name.endswith(".py") or re.match(r"#!.*python", head):
        try:
            compile(data, str(path), "exec", dont_inherit=True)
            return True
        except (SyntaxError, ValueError):
            return False
    if name.endswith(".json"):
        try:
            json.loads(data)
            return True
        except ValueError:
            return False
    if name.endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError:
            return None
        loader = _cfn_loader(yaml)
        try:
            list(yaml.load_all(data, Loader=loader))  # noqa: S506 - a SafeLoader subclass
            return True
        except yaml.YAMLError:
            return False
    if name.endswith(".toml"):
        try:
            tomllib.loads(data.decode("utf-8"))
            return True
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return False
    if name.endswith(".go") and shutil.which("gofmt"):
        return subprocess.run(["gofmt", "-e", str(path)], capture_output=True, timeout=30).returncode == 0
    if name.endswith(".ps1") and shutil.which("pwsh"):
        return None  # a parse-only check needs a script; not worth running scanned code's host
    return None


def _cfn_loader(yaml):
    """SafeLoader that accepts CloudFormation short tags (!Ref, !Sub, ...) as plain values."""
    class Loader(yaml.SafeLoader):
        pass

    def any_tag(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_mapping(node)

    Loader.add_multi_constructor("!", any_tag)
    return Loader


# ---- running -------------------------------------------------------------------------------

def run_repo(repo: Repo, gd: Path, imds_lint: str, keep: Path | None) -> tuple[RepoResult, list]:
    result = RepoResult(repo)
    tmp = Path(tempfile.mkdtemp(prefix="field-", dir=os.environ.get("FIELD_TMP")))
    try:
        result.missing_blobs = extract(gd, repo.commit, tmp)
        start = time.perf_counter()
        try:
            # --no-cache: a results cache written into the tree would be grepped as hits, and one
            # left from an earlier run would answer for the build under test.
            run = subprocess.run([*shlex.split(imds_lint), "--format", "json", "--jobs", "1", "--no-cache", "."],
                                 cwd=tmp,
                                 capture_output=True, timeout=900)
        except OSError as exc:
            raise SystemExit(f"cannot run {imds_lint!r}: {exc}") from None
        result.seconds = time.perf_counter() - start
        # A crashed interpreter exits 1 too, the code for "findings": only a JSON report counts,
        # else every label would be scored as missed and the figures would lie.
        try:
            doc = json.loads(run.stdout)
        except ValueError:
            doc = None
        if run.returncode not in (0, 1) or not isinstance(doc, dict):
            raise SystemExit(f"{repo.name}: imds-lint exit {run.returncode} without a JSON report: "
                             f"{run.stderr.decode(errors='replace')[-400:]}")
        result.findings = doc.get("findings", [])
        result.notes = doc.get("errors", [])
        result.files_scanned = doc.get("summary", {}).get("files_scanned", 0)
        for f in result.findings:
            if f["rule"] == "IMDS001":
                verdict = interpreter_accepts(tmp / f["path"])
                entry = (f["path"], f["line"], f["message"][:120])
                if verdict is True:
                    result.imds001_valid.append(entry)
                elif verdict is None:
                    result.imds001_unchecked.append(entry)
        hits = grep_hits(tmp)
        if keep is not None:
            shutil.copytree(tmp, keep / repo.mirror_name, symlinks=True, dirs_exist_ok=True)
        return result, hits
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def _row(t: Tally) -> str:
    return f"{t.tp:>4} {t.fp:>4} {t.fn:>4} {fmt(t.precision()):>9} {fmt(t.recall()):>7}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--corpus", type=Path, default=HERE / "corpus.toml")
    parser.add_argument("--labels", type=Path, default=HERE / "labels.tsv")
    parser.add_argument("--repo", action="append", help="only these repositories")
    parser.add_argument("--imds-lint", default=shutil.which("imds-lint") or "imds-lint",
                        help="the command to run (split like a shell would)")
    parser.add_argument("--draft", type=Path, help="write unlabeled findings and grep hits here")
    parser.add_argument("--keep", type=Path, help="copy the extracted trees here (for labeling)")
    parser.add_argument("--show", action="store_true", help="list every FP/FN by label")
    parser.add_argument("--save", type=Path, help="also write each repository's imds-lint JSON here")
    parser.add_argument("--load", type=Path, help="score JSON written by --save instead of running imds-lint")
    args = parser.parse_args(argv)

    repos = read_corpus(args.corpus)
    if args.repo:
        repos = [r for r in repos if r.name in args.repo]
    labels = read_labels(args.labels) if args.labels.exists() else []
    missing = [] if args.load else [r for r in repos if git_dir(args.mirrors, r) is None]
    if missing:
        print("missing mirrors (bring each in with the fetch look-up tool, github:OWNER/NAME):")
        for r in missing:
            print(f"  {r.name} @ {r.commit}")
    results: dict[str, RepoResult] = {}
    draft_rows = []
    labelled_lines = {(l.repo, l.path, l.line) for l in labels}
    for repo in repos:
        gd = git_dir(args.mirrors, repo)
        if gd is None and args.load is None:
            continue
        if args.load is not None:
            saved = json.loads((args.load / f"{repo.mirror_name}.json").read_text())
            result, hits = RepoResult(repo, saved["findings"], saved["errors"], saved["seconds"]), []
            result.imds001_valid = [tuple(e) for e in saved["imds001_valid"]]
            results[repo.name] = result
            continue
        result, hits = run_repo(repo, gd, args.imds_lint, args.keep)
        results[repo.name] = result
        if args.save is not None:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / f"{repo.mirror_name}.json").write_text(json.dumps({
                "findings": result.findings, "errors": result.notes, "seconds": result.seconds,
                "imds001_valid": result.imds001_valid}, indent=1))
        for path, line, text in hits:
            if (repo.name, path, line) not in labelled_lines:
                draft_rows.append((repo.name, path, line, "?", "-", "?", "grep: " + text))

    tallies, unlabeled = score({name: r.findings for name, r in results.items()}, labels)
    for repo, path, line, cat, rule, message in unlabeled:
        draft_rows.append((repo, path, line, cat, rule, "?", "finding: " + message[:140]))
    held_out = {r.name for r in repos if r.held_out and r.name in results}
    held_tallies = score({n: r.findings for n, r in results.items() if n in held_out}, labels)[0]

    print(f"\n{'':<12} {'all ' + str(len(results)) + ' repositories':^32}"
          + (f"   {'held-out ' + str(len(held_out)) + ' (session 3)':^32}" if held_out else ""))
    columns = f"{'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7}"
    print(f"{'category':<12} {columns}" + (f"   {columns}" if held_out else ""))
    for cat in ("tokenless", "hop-limit", "protocol", "enforcement", "dependency", "engine"):
        line = f"{cat:<12} {_row(tallies.get(cat, Tally()))}"
        if held_out:
            line += f"   {_row(held_tallies.get(cat, Tally()))}"
        print(line)
    print(f"\nunlabeled findings (counted as FP): {len(unlabeled)}")
    valid = [(n, *e) for n, r in results.items() for e in r.imds001_valid]
    unchecked = [(n, *e) for n, r in results.items() for e in r.imds001_unchecked]
    print(f"IMDS001 on files their interpreter accepts: {len(valid)}"
          f" (IMDS001 with no strict checker at hand: {len(unchecked)})")
    for entry in valid + unchecked:
        print("  ", *entry)
    notes = Counter()
    for r in results.values():
        for n in r.notes:
            notes["scanned as text" if "text-scanned" in n["message"] or "scanned as text" in n["message"]
                  else "other"] += 1
    print(f"notes: {dict(notes)}")
    print(f"\n{'repository':<52} {'files':>6} {'found':>5} {'secs':>6}")
    total = 0.0
    for name, r in results.items():
        total += r.seconds
        extra = f"  ({r.missing_blobs} large files not in the snapshot)" if r.missing_blobs else ""
        print(f"{name:<52} {r.files_scanned:>6} {len(r.findings):>5} {r.seconds:>6.2f}{extra}")
    print(f"{'total':<52} {'':>6} {sum(len(r.findings) for r in results.values()):>5} {total:>6.2f}")
    if args.show:
        real = {_key(l.repo, l.path, l.line, l.category): l for l in labels if l.verdict in REAL}
        found = {_key(n, f["path"], f["line"], category_of(f["rule"])) for n, r in results.items()
                 for f in r.findings}
        wrong = {_key(l.repo, l.path, l.line, l.category): l for l in labels if l.verdict not in REAL}
        print("\nfalse negatives:")
        for key, l in sorted(real.items()):
            if key[0] in results and key not in found:
                print(f"  {l.repo} {l.path}:{l.line} {l.category} {l.rule} - {l.note}")
        print("false positives (labelled):")
        for key, l in sorted(wrong.items()):
            if key in found:
                print(f"  {l.repo} {l.path}:{l.line} {l.category} {l.rule} - {l.note}")
    if args.draft:
        with args.draft.open("w", encoding="utf-8") as f:
            f.write("repo\tpath\tline\tcategory\trule\tverdict\tnote\n")
            for row in sorted(set(draft_rows)):
                f.write("\t".join(map(str, row)) + "\n")
        print(f"\n{len(set(draft_rows))} rows to label written to {args.draft}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
