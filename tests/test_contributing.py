"""CONTRIBUTING.md, checked by doing: a throwaway client, rule and file kind are added by its steps
(in a temporary folder, or into the tables the steps name) and found everywhere it promises.

aria2c, a real entry of the client table, was added by the same client steps
(tests/test_clients.py::test_aria2c_is_found_in_every_carrier).
"""

from __future__ import annotations

import json
import re
import sys
import textwrap

import pytest

from imds_lint import registry
from imds_lint.cli import main
from tests.conftest import ROOT

CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
URL = "http://169.254.169.254/latest/user-data"


def _section(title: str) -> str:
    return CONTRIBUTING.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def _clear_registry() -> None:
    for cached in (registry.all_rules, registry.rules_for, registry.catalog_codes, registry.opt_in_codes,
                   registry._catalog_of, registry.rule_by_code):
        cached.cache_clear()


# -- How to add a command-line HTTP client ----------------------------------------------------
# Step 1: an argv reader built on _words; step 2: one CommandLineClient in CLIENTS; step 4: the
# carrier matrix. "getit" is made up: `getit [-q] [-t SECONDS] [-o FILE] [-H 'Name: value'] URL`.


def _parse_getit(args, program: str = "getit"):
    from imds_lint import clients

    call = clients.ClientCall("getit")
    for w in clients._words(args, {"t", "o", "H"}, set(), equals=False, double_dash=True):
        if clients._url_or_header(call, w, ("-H",)):
            continue
        if "q" in w.flags:
            call.silent = True
        elif w.option == "-t" and w.value is not None:
            call.timeouts["total"] = w.value.value
        elif w.option == "-o" and w.value is not None:
            call.output = w.value.value
    return call


@pytest.fixture
def throwaway_client(monkeypatch):
    import importlib

    from imds_lint import clients
    from imds_lint.frontends import text

    entry = clients.CommandLineClient("getit", ("getit",), _parse_getit, header_option=' -H "{name}: {value}"',
                                      argv_header=("-H", "{name}: {value}"))
    monkeypatch.setattr(clients, "CLIENTS", (*clients.CLIENTS, entry))
    monkeypatch.setitem(clients._BY_PROGRAM, "getit", entry)
    # The text fallback compiles the table's command words when it is imported, as it would
    # after the entry was written into clients.py.
    importlib.reload(text)
    yield entry
    monkeypatch.undo()
    importlib.reload(text)


def test_the_client_steps_are_the_ones_followed_here():
    steps = _section("How to add a command-line HTTP client")
    for promise in ("parse_<client>(args, program) -> ClientCall", "_words(args, short_valued, long_valued",
                    "`CommandLineClient` to `CLIENTS`", "header_option", "argv_header", "no carrier changes"):
        assert promise in steps, promise


def test_a_client_added_by_the_steps_is_found_in_every_carrier(throwaway_client):
    from tests.test_clients import CARRIERS
    from tests.helpers import lint

    missed = []
    for carrier, (text, kind) in sorted(CARRIERS.items()):
        text = text.replace("aria2c", "getit")
        line = next(i for i, spelled in enumerate(text.splitlines(), 1) if "getit" in spelled)
        if not any(f.code == "IMDS101" and f.start.line == line for f in lint(text, kind)):
            missed.append(carrier)
    assert missed == []
    assert len(CARRIERS) >= 12


def test_a_client_added_by_the_steps_is_read_and_fixed_from_its_entry(throwaway_client):
    from imds_lint.clients import Arg, parse_argv
    from imds_lint.frontends import text as text_frontend
    from imds_lint.model import Document
    from tests.helpers import fix, lint

    call = parse_argv("getit", [Arg(w) for w in ["-q", "-t", "3", "-H", "X-A: 1", "-o", "out", URL]])
    assert (call.silent, call.timeouts, call.output, [h.text for h in call.headers], [u.value for u in call.urls]) \
        == (True, {"total": "3"}, "out", ["X-A: 1"], [URL])
    assert [r.url for r in text_frontend.scan(Document("text", f"then: getit -q {URL}\n"))] == [URL]
    # The header goes in from the entry's header_option; the token comes from a client that can PUT.
    fixed = fix(f"#!/bin/sh\ncurl -sS {URL}\ngetit -q {URL}\n")
    assert f'getit -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -q {URL}' in fixed
    assert lint(fixed) == []


def test_without_the_entry_no_carrier_knows_the_client():
    from tests.test_clients import CARRIERS
    from tests.helpers import codes, lint

    text, kind = CARRIERS["dockerfile-exec"]
    assert "IMDS101" not in codes(lint(text.replace("aria2c", "getit"), kind))


# -- How to add a rule -------------------------------------------------------------------------
# Step 1: a module rules/imdsNNN_<name>.py with one Rule subclass and its page; step 2:
# check_request reporting through ctx; step 3: valid/invalid examples, the page's pair among them.
THROWAWAY_RULE = textwrap.dedent('''
    from __future__ import annotations

    from imds_lint.model import Category, Severity
    from imds_lint.rule import Invalid, Rule, Valid


    class UserDataRead(Rule):
        """
        ## What it does
        Flags a request for the instance's user-data.

        ## Why it breaks under IMDSv2-only
        Like every metadata path, user-data answers 401 to a request without a token.

        ## Example
        ```shell
        curl -s http://169.254.169.254/latest/user-data
        ```

        ## Use instead
        ```shell
        cat /var/lib/cloud/instance/user-data.txt
        ```

        ## Fix safety
        No fix: where the script should read user-data from is the author's choice.

        ## References
        - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html
        """

        code = "IMDS599"
        name = "user-data-read"
        category = Category.IMDSV1_CALL
        severity = Severity.INFO
        summary = "Reads user-data from IMDS"
        fix_title = None

        valid = [Valid("shell", "cat /var/lib/cloud/instance/user-data.txt\\n")]
        invalid = [Invalid("shell", "curl -s http://169.254.169.254/latest/user-data\\n")]

        def check_request(self, request, ctx):
            if request.path is not None and request.path.startswith("/latest/user-data"):
                ctx.report_request(self, request, "reads user-data from IMDS")
''')


@pytest.fixture
def throwaway_rule(tmp_path, monkeypatch):
    import imds_lint.rules as catalog

    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "imds599_user_data_read.py").write_text(THROWAWAY_RULE, encoding="utf-8")
    # The catalog is every folder on imds_lint.rules' path (the checkout's rules/ is one).
    monkeypatch.setattr(catalog, "__path__", [*catalog.__path__, str(folder)])
    _clear_registry()
    yield registry.rule_by_code("IMDS599")
    monkeypatch.undo()
    sys.modules.pop("imds_lint.rules.imds599_user_data_read", None)
    _clear_registry()


def test_the_rule_steps_are_the_ones_followed_here():
    steps = _section("How to add a rule")
    for promise in ("rules/imdsNNN_<name>.py", "check_request(request, ctx)", "ctx.report_request",
                    "`valid = [...]` and `invalid = [...]`", "--explain IMDSNNN", "README"):
        assert promise in steps, promise


def test_a_rule_added_by_the_steps_is_registered_listed_and_explained(throwaway_rule, capsys):
    rule = throwaway_rule
    assert rule is not None and rule.name == "user-data-read"
    assert main(["--list-rules"]) == 0
    assert re.search(r"^IMDS599  user-data-read +imdsv1-call +info .*Reads user-data from IMDS$",
                     capsys.readouterr().out, re.M)
    assert main(["--list-rules", "--format", "json"]) == 0
    assert {"code": "IMDS599", "name": "user-data-read"}.items() <= next(
        r for r in json.loads(capsys.readouterr().out) if r["code"] == "IMDS599").items()
    assert main(["--explain", "IMDS599"]) == 0
    page = capsys.readouterr().out
    assert "## Why it breaks under IMDSv2-only" in page and "cat /var/lib/cloud/instance/user-data.txt" in page


def test_a_rule_added_by_the_steps_has_its_examples_and_page_executed(throwaway_rule):
    from tests import test_rule_examples as examples

    valid = [p for p in examples._cases("valid") if p.id.startswith("IMDS599-")]
    invalid = [p for p in examples._cases("invalid") if p.id.startswith("IMDS599-")]
    assert [p.id for p in valid + invalid] == ["IMDS599-valid-1", "IMDS599-invalid-1"]
    for param in valid:
        examples.test_valid_example_is_not_flagged(*param.values)
    for param in invalid:
        examples.test_invalid_example_is_flagged(*param.values)
    examples.test_rule_page_has_every_section(throwaway_rule)
    examples.test_documented_example_is_a_tested_pair(throwaway_rule)


def test_a_rule_added_by_the_steps_runs_selects_suppresses_and_reaches_sarif(throwaway_rule, tmp_path,
                                                                              monkeypatch, capsys):
    script = tmp_path / "boot.sh"
    script.write_text(f"#!/bin/sh\ncurl -s -H 'X-aws-ec2-metadata-token: t' {URL}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["--select", "IMDS599", "--format", "json", "boot.sh"]) == 1
    assert [f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["IMDS599"]
    script.write_text(f"#!/bin/sh\ncurl -s -H 'X-aws-ec2-metadata-token: t' {URL}  # imds-lint: ignore[IMDS599]\n")
    assert main(["--select", "IMDS5", "boot.sh"]) == 0  # suppressed, and not an unknown code (IMDS003)
    capsys.readouterr()
    assert main(["--select", "IMDS599", "--format", "sarif", "boot.sh"]) == 0
    sarif = json.loads(capsys.readouterr().out)
    assert "IMDS599" in [r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]]


def test_a_rule_without_its_readme_row_is_caught(throwaway_rule):
    """The last step (a README catalog row) is enforced: without it the README test fails."""
    from tests import test_readme

    with pytest.raises(AssertionError, match="README catalog misses IMDS599"):
        test_readme.test_rule_catalog_links_every_rule_page()


# -- How to add a file kind --------------------------------------------------------------------
# A crontab kind: each line is five schedule fields and a command that cron hands to /bin/sh.
# Step 1: a Kind and how a file is recognised; step 3: a front-end module registered in
# _FRONTENDS whose embedded scripts go back through session.analyze(document.embed(...)) with an
# offset map; step 5: fixtures with annotations that tests/test_fixtures.py picks up.
THROWAWAY_FRONTEND = textwrap.dedent('''
    from __future__ import annotations

    import re

    from imds_lint.frontends import Analysis
    from imds_lint.kinds import Kind
    from imds_lint.model import Document, OffsetMap, Segment

    _ENTRY = re.compile(r"^[ \\t]*(?:@\\w+|(?:\\S+[ \\t]+){5})(?P<command>[^#\\n][^\\n]*)$", re.M)


    def analyze(document: Document, session) -> list[Analysis]:
        children = []
        for match in _ENTRY.finditer(document.text):
            start, end = match.span("command")
            command = match.group("command")
            # Not writable: a token fetch on a line of its own would not be a crontab entry.
            inner = document.embed(Kind.SHELL, command, OffsetMap([Segment(0, len(command), start, end)]),
                                   label="crontab command", writable=False)
            children.extend(session.analyze(inner))
        return [Analysis(document), *children]
''')
CRONTAB = ("# m h dom mon dow command\n"
           "SHELL=/bin/sh\n"
           f"*/5 * * * * curl -s {URL} > /tmp/user-data  # expect: IMDS101\n"
           "@reboot aria2c -q -o /tmp/id http://169.254.169.254/latest/meta-data/instance-id  # expect: IMDS101\n"
           "0 3 * * * /usr/local/bin/backup.sh\n")


@pytest.fixture
def throwaway_kind(tmp_path, monkeypatch):
    from imds_lint import frontends, kinds

    package = tmp_path / "package"
    package.mkdir()
    (package / "imds_throwaway_crontab.py").write_text(THROWAWAY_FRONTEND, encoding="utf-8")
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.setattr(kinds.Kind, "CRONTAB", "crontab", raising=False)
    monkeypatch.setitem(kinds._BY_SUFFIX, ".cron", "crontab")
    monkeypatch.setitem(frontends._FRONTENDS, "crontab", "imds_throwaway_crontab")
    yield "crontab"
    sys.modules.pop("imds_throwaway_crontab", None)


def test_the_kind_steps_are_the_ones_followed_here():
    steps = _section("How to add a file kind")
    for promise in ("`Kind` constant", "`_BY_SUFFIX`", "`_FRONTENDS`", "session.analyze(document.embed(",
                    "offset map", "session.project", "fixtures/<kind>/", "tests/test_fixtures.py",
                    "supported-files table"):
        assert promise in steps, promise


def test_a_kind_added_by_the_steps_is_classified_discovered_and_linted(throwaway_kind, tmp_path, monkeypatch,
                                                                        capsys):
    from imds_lint.kinds import classify

    assert classify("deploy/jobs.cron", CRONTAB) == "crontab"
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy/jobs.cron").write_text(CRONTAB)
    (tmp_path / "deploy/quiet.cron").write_text("0 3 * * * /usr/local/bin/backup.sh\n")
    monkeypatch.chdir(tmp_path)
    assert main(["--format", "json", "."]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    # At the outer file's own lines and columns (the offset map), the client table's aria2c included.
    assert [(f["path"], f["rule"], f["line"], f["column"]) for f in findings] == [
        ("deploy/jobs.cron", "IMDS101", 3, 13), ("deploy/jobs.cron", "IMDS101", 4, 9)]
    assert main(["--format", "markdown", "."]) == 1
    assert re.search(r"^\| crontab \| 2 \| 1 \|$", capsys.readouterr().out, re.M), "the report names the kind"
    # Not writable, as the front-end says: no rewrite is offered, so --diff has nothing to show and
    # --fix leaves the file (and its findings) as they are.
    assert main(["--diff", "deploy/jobs.cron"]) == 0
    assert "+++" not in capsys.readouterr().out
    assert main(["--fix", "deploy/jobs.cron"]) == 1
    assert (tmp_path / "deploy/jobs.cron").read_text() == CRONTAB


def test_a_kind_added_by_the_steps_has_its_fixtures_checked(throwaway_kind, tmp_path, monkeypatch):
    from tests import test_fixtures

    fixtures = tmp_path / "fixtures"
    (fixtures / "crontab").mkdir(parents=True)
    fixture = fixtures / "crontab" / "jobs.cron"
    fixture.write_text(CRONTAB)
    monkeypatch.setattr(test_fixtures, "FIXTURES", fixtures)
    assert test_fixtures.fixture_files() == [fixture]
    assert test_fixtures.expectations(fixture)[0] == {(3, "IMDS101"), (4, "IMDS101")}
    test_fixtures.test_fixture_findings_match_annotations(fixture)
    # An annotation the front-end does not honour fails.
    fixture.write_text(CRONTAB.replace("backup.sh\n", "backup.sh  # expect: IMDS101\n"))
    with pytest.raises(AssertionError, match="missed findings"):
        test_fixtures.test_fixture_findings_match_annotations(fixture)


def test_a_kind_without_its_readme_row_is_caught(throwaway_kind):
    from tests import test_readme

    with pytest.raises(AssertionError, match=r"supported-files table misses \['crontab'\]"):
        test_readme.test_supported_files_table_names_every_file_kind()


def test_a_kind_added_by_the_steps_is_not_loaded_for_files_that_cannot_matter(throwaway_kind, tmp_path):
    """The prefilter (step 2 not needed: cron lines name the endpoint) keeps the module unloaded."""
    from imds_lint.config import Settings
    from imds_lint.engine import Linter

    (tmp_path / "quiet.cron").write_text("0 3 * * * /usr/local/bin/backup.sh\n")
    assert Linter(Settings(root=tmp_path)).lint_file(tmp_path / "quiet.cron", "quiet.cron").findings == []
    assert "imds_throwaway_crontab" not in sys.modules
