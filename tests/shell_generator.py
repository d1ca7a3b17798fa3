"""Small, realistic shell scripts that talk to IMDS, for the three-world comparison of their fixes.

A script is drawn from building blocks people write: ``set -e`` / ``set -euo
pipefail``, functions, ``|| true`` and ``|| echo fallback``, ``if``, loops,
``$(…)``, time limits, a sourced library, an argv switch (``--help``), a token
variable the script already fetched, and status-only PUTs (``-o /dev/null -w
'%{http_code}'``, ``…; echo $?``). The same code draws from hypothesis (the
test) or from ``random.Random`` (``python -m tests.three_worlds_figures``):
``choose(options)`` picks one.

Every script prints only what does not change from run to run (values, HTTP
codes, exit statuses, never a token), so two runs can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from tests.differential import Program

Choose = Callable[[Sequence], object]

BASE = "http://169.254.169.254"
PATHS = ["instance-id", "ami-id", "instance-type", "placement/region", "local-ipv4", "mac", "no-such-key"]
LIMIT = 0.05  # seconds: long enough to answer on loopback, short enough for thousands of black-holed runs
TTL = '-H "X-aws-ec2-metadata-token-ttl-seconds: 60"'


@dataclass
class _Script:
    choose: Choose
    limit_everywhere: bool = True
    token_variable: str | None = None
    counter: int = 0

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def limit(self) -> str:
        option = self.choose(["", f"--max-time {LIMIT}", f"-m {LIMIT}", f"--connect-timeout {LIMIT}"])
        if not option.startswith(("--max-time", "-m")):
            # A connect time-out does not bound a route that accepts and never answers.
            self.limit_everywhere = False
        return option

    def curl(self, path_expression: str | None = None, fail: bool | None = None) -> str:
        fail = self.choose([True, False]) if fail is None else fail
        flags = "-fs" if fail else "-s"
        limit = self.limit()
        token = ""
        if self.token_variable is not None and self.choose([True, False]):
            token = f' -H "X-aws-ec2-metadata-token: ${self.token_variable}"'
        path = path_expression if path_expression is not None else self.choose(PATHS)
        url = f'"{BASE}/latest/meta-data/{path}"' if self.choose([True, False]) else f"{BASE}/latest/meta-data/{path}"
        return " ".join(part for part in (f"curl {flags}", limit, token.strip(), url) if part)

    def token_put(self, capture: str) -> str:
        limit = self.limit()
        put = " ".join(p for p in ("curl -s", limit, f"-X PUT {BASE}/latest/api/token", TTL) if p)
        if capture == "body":
            return put
        if capture == "status":
            return put.replace("curl -s", "curl -s -o /dev/null -w '%{http_code}'", 1)
        return put.replace("curl -s", "curl -s -o /dev/null", 1) + "; echo $?"

    def statement(self, depth: int = 0) -> list[str]:
        kinds = ["plain", "assign", "fallback", "or-true", "if", "loop", "pipe"]
        kind = self.choose(kinds if depth == 0 else kinds[:5])
        if kind == "plain":
            return [f"{self.curl()}; echo \" rc=$?\"" if self.choose([True, False]) else f"{self.curl()} || echo \" failed\""]
        if kind == "assign":
            name = self.fresh("v")
            return [f"{name}=$({self.curl()}) || {name}=none", f'echo "{name}=${name}"']
        if kind == "fallback":
            name = self.fresh("v")
            return [f"{name}=$({self.curl(fail=True)} || echo unknown)", f'echo "{name}=${name}"']
        if kind == "or-true":
            return [f"{self.curl()} || true", "echo"]
        if kind == "if":
            name = self.fresh("v")
            return [f"if {name}=$({self.curl(fail=True)}); then", f'  echo "got ${name}"', "else", '  echo "none"', "fi"]
        if kind == "loop":
            keys = " ".join(self.choose([PATHS[:2], PATHS[2:4], [PATHS[0], PATHS[-1]]]))
            return [f"for key in {keys}; do", f'  {self.curl("$key")} || echo "-"', "  echo", "done"]
        # pipe
        return [f"{self.curl()} | tr a-z A-Z || true", "echo"]


def draw_program(choose: Choose) -> Program:
    """One script (maybe with a sourced library) and the argv it runs with."""
    script = _Script(choose)
    lines = ["#!/bin/bash", choose(["", "set -e", "set -euo pipefail", "set -u"])]
    prelude = choose(["none", "none", "token", "status", "exit-status"])
    if prelude == "token":
        script.token_variable = choose(["TOKEN", "IMDS_TOKEN", "token"])
        lines.append(f"{script.token_variable}=$({script.token_put('body')}) || true")
    elif prelude == "status":
        lines += [f"code=$({script.token_put('status')}) || true", 'echo "token endpoint $code"']
    elif prelude == "exit-status":
        lines += [f"reachable=$({script.token_put('exit')})", 'echo "reachable $reachable"']

    siblings: tuple[tuple[str, str], ...] = ()
    argv: tuple[str, ...] = ()
    shape = choose(["flat", "flat", "function", "library", "cli"])
    body = [line for _ in range(choose([1, 1, 2, 3])) for line in script.statement()]
    if shape == "flat":
        lines += body
    elif shape == "function":
        lines += ["# facts: prints what the deploy log records about this instance", "facts() {"]
        lines += ["  " + line for line in body] + ["}"]
        lines += [choose(["facts", "facts || echo 'facts failed'", "out=$(facts) || true; echo \"$out\""])]
    else:
        library = ["# lib.sh: metadata helpers; sourcing it must not talk to IMDS", "",
                   "# lookup: prints one fact", "lookup() {"]
        library += ["  " + line for line in body] + ["}"]
        siblings = (("lib.sh", "\n".join(library) + "\n"),)
        lines.append('. "$(dirname "$0")/lib.sh"')
        if shape == "library":
            lines.append("lookup")
        else:
            argv = (choose(["--help", "run"]),)
            lines += ['case "${1:-}" in', '  --help) echo "usage: facts [--help|run]" ;;', "  run) lookup ;;", "esac"]
    lines.append('echo "end"')
    text = "\n".join(line for line in lines if line != "") + "\n"
    return Program("shell", text, name="script.sh", siblings=siblings, argv=argv,
                   time_limit=LIMIT if script.limit_everywhere else None)
