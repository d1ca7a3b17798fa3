"""``--statistics``: how many findings each rule produced, most first (as ruff prints them)."""

from __future__ import annotations

import json
from collections import Counter

from imds_lint.reporters import Report


def rows(report: Report) -> list[dict]:
    counts: Counter = Counter()
    fixable: Counter = Counter()
    names: dict[str, str] = {}
    for f in report.findings:
        counts[f.code] += 1
        fixable[f.code] += f.fixable
        names[f.code] = f.name
    ordered = sorted(counts, key=lambda code: (-counts[code], code))
    return [{"code": code, "name": names[code], "count": counts[code], "fixable": fixable[code]} for code in ordered]


def render(report: Report, as_json: bool = False) -> str:
    table = rows(report)
    if as_json:
        return json.dumps(table, indent=2, ensure_ascii=False) + "\n"
    if not table:
        return ""
    count_width = max(len(str(r["count"])) for r in table)
    name_width = max(len(r["name"]) for r in table)
    lines = []
    for r in table:
        # ruff's marker: [*] when every one of them is fixable, [-] when some are.
        mark = "[*]" if r["fixable"] == r["count"] else "[-]" if r["fixable"] else "   "
        lines.append(f"{r['count']:>{count_width}}  {r['code']}  {r['name']:<{name_width}}  {mark}".rstrip())
    return "\n".join(lines) + "\n"
