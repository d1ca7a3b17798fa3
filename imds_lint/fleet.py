"""``imds-lint --merge``: many JSON reports (one per repository) -> one fleet readiness report.

A platform team flips ``http_tokens=required`` account by account across
hundreds of repositories; each repository's CI (or one matrix job per
repository) writes ``imds-lint --format json``, and this merges them: a verdict
per repository, totals per category and rule, what ``--fix`` can do, what
blocks the flip, and the repositories to fix first. Counts use the readiness
report's vocabulary (imds_lint.reporters.readiness), so a repository's row here
says what its own markdown report says.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from imds_lint import __version__
from imds_lint.records import dataclass, field

SEVERITIES = ("error", "warning", "info")
FIX_FIRST = 10


class MergeError(Exception):
    """A report that cannot be read, and why."""


@dataclass
class Repository:
    name: str
    commit: str | None
    source: str  # the report file it came from
    files_scanned: int = 0
    findings: list[dict] = field(default_factory=list)  # reported and baselined, each with "baselined"
    notes: int = 0  # per-file notes of the scan (unreadable files, fallbacks, crashes)

    def count(self, predicate) -> int:
        return sum(1 for f in self.findings if predicate(f))

    @property
    def breaking(self) -> list[dict]:
        return [f for f in self.findings if breaks(f)]

    @property
    def enforcement(self) -> int:
        return self.count(lambda f: f["category"] == "enforcement")

    def assessment(self) -> tuple[str, str, bool]:
        """(short verdict, sentence, ready), as the repository's own readiness report words it."""
        from imds_lint.reporters.readiness import verdict_for

        breaking = self.breaking
        files = len({f["path"] for f in breaking})
        sentence, ready = verdict_for(len(breaking), files, sum(1 for f in breaking if fixable(f)),
                                      sum(1 for f in breaking if f["baselined"]), self.enforcement)
        return sentence.split(":", 1)[0], sentence, ready


def breaks(f: dict) -> bool:
    from imds_lint.reporters.readiness import BREAKING

    return f["category"] in {c.value for c in BREAKING} and f["severity"] != "info"


def fixable(f: dict) -> bool:
    return f.get("fix") in ("safe", "unsafe")


# -- reading -----------------------------------------------------------------------

def report_files(paths: list[str]) -> list[Path]:
    """The report files named, folders searched for ``*.json`` (sorted: the output is stable)."""
    found: list[Path] = []
    for given in paths or ["."]:
        path = Path(given)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise MergeError(f"{given}: no such file or directory")
    return found


def read_report(path: Path) -> Repository:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise MergeError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise MergeError(f"{path}: not an imds-lint JSON report (invalid JSON: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("findings"), list) \
            or (data.get("tool") or {}).get("name") != "imds-lint":
        raise MergeError(f"{path}: not an imds-lint JSON report (version 1, from --format json)")
    name = data.get("repository") or path.stem
    repo = Repository(name=str(name), commit=data.get("commit"), source=str(path),
                      files_scanned=int((data.get("summary") or {}).get("files_scanned", 0)),
                      notes=len(data.get("errors") or []))
    for f in data["findings"]:
        repo.findings.append(_finding(f, path, baselined=False))
    for f in (data.get("baseline") or {}).get("hidden", []):
        repo.findings.append(_finding(f, path, baselined=True))
    return repo


def _finding(f: dict, path: Path, baselined: bool) -> dict:
    try:
        fix = f.get("fix")
        return {
            "rule": str(f["rule"]), "name": str(f.get("name", "")), "category": str(f["category"]),
            "severity": str(f["severity"]), "path": str(f.get("project_path") or f.get("path", "")),
            "line": int(f.get("line", 0)), "fix": fix.get("applicability") if isinstance(fix, dict) else fix,
            "baselined": baselined,
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        raise MergeError(f"{path}: a finding lacks rule, category or severity") from None


def merge(files: list[Path]) -> tuple[list[Repository], list[str]]:
    """One Repository per repository name (a later report of the same name replaces an earlier one,
    with a note); the notes to print."""
    by_name: dict[str, Repository] = {}
    notes = []
    for path in files:
        repo = read_report(path)
        if repo.name in by_name:
            notes.append(f"{repo.name} is in {by_name[repo.name].source} and {path}; using {path}")
        by_name[repo.name] = repo
    return list(by_name.values()), notes


# -- assessing -----------------------------------------------------------------------

@dataclass
class Fleet:
    repositories: list[Repository]

    def ranked(self) -> list[Repository]:
        """Fix first: the most breaking findings; among equals, the ones --fix gets furthest with."""
        return sorted((r for r in self.repositories if r.breaking),
                      key=lambda r: (-len(r.breaking), -sum(1 for f in r.breaking if fixable(f)), r.name))

    @property
    def findings(self) -> list[dict]:
        return [f for r in self.repositories for f in r.findings]

    def as_json(self) -> dict:
        findings = self.findings
        rows = []
        for r in sorted(self.repositories, key=lambda r: r.name):
            short, sentence, ready = r.assessment()
            rows.append({
                "repository": r.name, "commit": r.commit, "report": r.source, "ready": ready, "verdict": short,
                "verdict_text": sentence, "files_scanned": r.files_scanned, "findings": len(r.findings),
                "breaking": len(r.breaking), "breaking_fixable": sum(1 for f in r.breaking if fixable(f)),
                "baselined": r.count(lambda f: f["baselined"]), "enforcement": r.enforcement,
                "fixable": r.count(fixable), "notes": r.notes,
                "rules": dict(sorted(Counter(f["rule"] for f in r.findings).items())),
            })
        fixes = Counter(f["fix"] for f in findings)
        return {
            "version": 1,
            "kind": "fleet",
            "tool": {"name": "imds-lint", "version": __version__},
            "summary": {
                "repositories": len(self.repositories),
                "ready": sum(1 for row in rows if row["ready"]),
                "not_ready": sum(1 for row in rows if not row["ready"]),
                "files_scanned": sum(r.files_scanned for r in self.repositories),
                "findings": len(findings),
                "breaking": sum(1 for f in findings if breaks(f)),
                "baselined": sum(1 for f in findings if f["baselined"]),
                "fixable": fixes["safe"] + fixes["unsafe"],
                "safe": fixes["safe"], "unsafe": fixes["unsafe"], "display_only": fixes["display-only"],
                "manual": fixes[None],
            },
            "by_category": _by_category(findings),
            "by_rule": _by_rule(self.repositories),
            "repositories": rows,
            "fix_first": [r.name for r in self.ranked()[:FIX_FIRST]],
        }


def _by_category(findings: list[dict]) -> dict:
    from imds_lint.reporters.readiness import CATEGORY_ORDER

    order = [c.value for c in CATEGORY_ORDER]
    counts: dict[str, Counter] = {}
    for f in findings:
        counts.setdefault(f["category"], Counter())[f["severity"]] += 1
    ordered = sorted(counts, key=lambda c: (order.index(c) if c in order else len(order), c))
    return {c: {s: counts[c][s] for s in SEVERITIES} | {"total": sum(counts[c].values())} for c in ordered}


def _by_rule(repositories: list[Repository]) -> list[dict]:
    rows: dict[str, dict] = {}
    for r in repositories:
        for f in r.findings:
            row = rows.setdefault(f["rule"], {"rule": f["rule"], "name": f["name"], "category": f["category"],
                                              "findings": 0, "breaking": 0, "fixable": 0, "baselined": 0,
                                              "repositories": set()})
            row["findings"] += 1
            row["breaking"] += breaks(f)
            row["fixable"] += fixable(f)
            row["baselined"] += f["baselined"]
            row["repositories"].add(r.name)
    out = []
    for row in sorted(rows.values(), key=lambda row: (-row["breaking"], -row["findings"], row["rule"])):
        out.append({**row, "repositories": len(row["repositories"])})
    return out


# -- writing -----------------------------------------------------------------------

def _code(text: str) -> str:
    """Data in a code span, escaped as the readiness report escapes it (names come from reports)."""
    from imds_lint.reporters.markdown import _code as code

    return code(text)


def render_markdown(fleet: Fleet) -> str:
    from imds_lint.reporters.readiness import plural

    doc = fleet.as_json()
    s = doc["summary"]
    not_ready = s["not_ready"]
    breaking_fixable = sum(row["breaking_fixable"] for row in doc["repositories"])
    if not_ready:
        head = (f"❌ {not_ready} of {plural(s['repositories'], 'repository', 'repositories')} not ready: "
                f"{plural(s['breaking'], 'finding')} would break if http_tokens=required were flipped now "
                f"({breaking_fixable} of them fixable automatically).")
    else:
        head = (f"✅ All {plural(s['repositories'], 'repository', 'repositories')} ready: nothing found that "
                "breaks under IMDSv2-only.")
    out = ["# IMDSv2 fleet readiness", "", f"**{head}**", "",
           f"{plural(s['repositories'], 'repository', 'repositories')}, "
           f"{plural(s['files_scanned'], 'scanned file')}, {plural(s['findings'], 'finding')}: "
           f"{s['breaking']} breaking, {s['findings'] - s['breaking']} not breaking; {s['fixable']} fixable "
           f"automatically; {s['baselined']} baselined (counted: baselined findings still break).", ""]

    out += ["## Repositories", "",
            "| Repository | Commit | Verdict | Breaking | Fixable | Baselined | IaC allowing IMDSv1 | Findings | Files |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in sorted(doc["repositories"], key=lambda row: (row["ready"], -row["breaking"], row["repository"])):
        mark = "✅" if row["ready"] else "❌"
        commit = _code(row["commit"][:12]) if row["commit"] else "?"
        out.append(f"| {_code(row['repository'])} | {commit} | {mark} {row['verdict']} | {row['breaking']} | "
                   f"{row['breaking_fixable']} | {row['baselined']} | {row['enforcement']} | {row['findings']} | "
                   f"{row['files_scanned']} |")
    out.append("")
    out.append("Breaking, Fixable and Baselined count the findings that would break; Fixable means "
               "`imds-lint --fix` (or `--fix --unsafe-fixes`) rewrites them.")

    ranked = fleet.ranked()
    out += ["", "## Repositories to fix first", ""]
    if not ranked:
        out.append("None: no repository has findings that break under IMDSv2-only.")
    for i, repo in enumerate(ranked[:FIX_FIRST], 1):
        breaking = repo.breaking
        auto = sum(1 for f in breaking if fixable(f))
        rules = Counter(f["rule"] for f in breaking)
        top = ", ".join(f"{code} ×{n}" for code, n in sorted(rules.items(), key=lambda kv: (-kv[1], kv[0])))
        hint = "all fixable automatically: one `imds-lint --fix` away" if auto == len(breaking) else \
            f"{auto} fixable automatically, {len(breaking) - auto} by hand"
        out.append(f"{i}. {_code(repo.name)}: {plural(len(breaking), 'breaking finding')} ({hint}); {top}")
    if len(ranked) > FIX_FIRST:
        out.append(f"\n... and {len(ranked) - FIX_FIRST} more.")

    out += ["", "## What blocks flipping", "",
            "| Rule | Name | Category | Breaking | Fixable | Baselined | Repositories |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    blocking = [row for row in doc["by_rule"] if row["breaking"]]
    for row in blocking:
        out.append(f"| {row['rule']} | `{row['name']}` | {row['category']} | {row['breaking']} | {row['fixable']} | "
                   f"{row['baselined']} | {row['repositories']} |")
    if not blocking:
        out.append("| – | nothing | | 0 | 0 | 0 | 0 |")

    out += ["", "## By rule", "", "| Rule | Name | Category | Findings | Breaking | Fixable | Repositories |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for row in doc["by_rule"]:
        out.append(f"| {row['rule']} | `{row['name']}` | {row['category']} | {row['findings']} | {row['breaking']} | "
                   f"{row['fixable']} | {row['repositories']} |")

    out += ["", "## By category", "", "| Category | Errors | Warnings | Info | Total |", "| --- | ---: | ---: | ---: | ---: |"]
    for category, counts in doc["by_category"].items():
        out.append(f"| {category} | {counts['error']} | {counts['warning']} | {counts['info']} | {counts['total']} |")

    out += ["", "## What can be fixed automatically", "",
            f"- {s['safe']} with `imds-lint --fix`",
            f"- {s['unsafe']} more with `imds-lint --fix --unsafe-fixes` (review these)",
            f"- {s['display_only']} shown by `imds-lint --diff` only",
            f"- {s['manual']} need a change by hand", ""]
    return "\n".join(out)


def main(args) -> int:
    """The --merge run: exit 0 when every repository is ready, 1 when one is not, 2 on bad input."""
    try:
        repositories, notes = merge(report_files(args.paths))
    except MergeError as exc:
        sys.stderr.write(f"imds-lint: {exc}\n")
        return 2
    if not repositories:
        sys.stderr.write("imds-lint: --merge found no JSON reports\n")
        return 2
    for note in notes:
        sys.stderr.write(f"imds-lint: note: {note}\n")
    fleet = Fleet(repositories)
    targets = [(args.format, args.output_file)] + list(args.output)
    for name, path in targets:
        if name not in ("markdown", "json", "text"):
            sys.stderr.write(f"imds-lint: --merge writes markdown or json, not {name}\n")
            return 2
        text = json.dumps(fleet.as_json(), indent=2, ensure_ascii=False) + "\n" if name == "json" \
            else render_markdown(fleet)
        if path is None or path == "-":
            sys.stdout.write(text)
            continue
        try:
            with open(path, "w", encoding="utf-8") as stream:
                stream.write(text)
        except OSError as exc:
            sys.stderr.write(f"imds-lint: cannot write {path}: {exc.strerror or exc}\n")
            return 2
    if args.exit_zero:
        return 0
    return 0 if all(r.assessment()[2] for r in repositories) else 1

