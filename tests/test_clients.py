"""The one table of command-line HTTP clients, and every carrier that reads an argv through it.

aria2c is the proof of the design: one entry in ``imds_lint/clients.py`` and
it is found in every carrier below, none of which names it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from imds_lint import clients
from imds_lint.clients import Arg, parse_argv
from imds_lint.frontends import text as text_frontend
from imds_lint.model import Document
from tests.helpers import codes, fix, lint

URL = "http://169.254.169.254/latest/meta-data/instance-id"
PACKAGE = Path(__file__).resolve().parents[1] / "imds_lint"


def argv(line: str) -> tuple[str, list[Arg]]:
    words = line.split()
    return words[0], [Arg(w) for w in words[1:]]


def parsed(line: str):
    program, args = argv(line)
    call = parse_argv(program, args)
    assert call is not None, line
    return call


# -- the argv reader -----------------------------------------------------------------


def test_curl_request_parts():
    call = parsed(f"curl -sSf -m 5 --connect-timeout 2 -X PUT -H X-A:1 -d x=y -o out.txt -w %{{http_code}} {URL}")
    assert [u.value for u in call.urls] == [URL]
    assert call.method == "PUT" and call.method_explicit
    assert [h.text for h in call.headers] == ["X-A:1"]
    assert [d.value for d in call.data] == ["x=y"]
    assert call.timeouts == {"total": "5", "connect": "2"}
    assert call.fails_on_http_error and call.silent
    assert call.output == "out.txt" and call.write_out == "%{http_code}"


def test_curl_inline_short_values_and_long_fail():
    call = parsed(f"curl -m5 --fail --max-time 7 {URL}")
    assert call.timeouts == {"total": "7"} and call.fails_on_http_error


def test_curl_without_fail_flag_succeeds_on_http_errors():
    assert not parsed(f"curl -s {URL}").fails_on_http_error


@pytest.mark.parametrize("line, timeouts", [
    (f"wget -T 5 -qO- {URL}", {"total": "5"}),
    (f"wget --timeout=3 --read-timeout 9 -O - {URL}", {"total": "3", "read": "9"}),
    # BusyBox wget: the same short spellings.
    (f"wget -q -T 2 -O /tmp/id {URL}", {"total": "2"}),
])
def test_wget_gnu_and_busybox(line, timeouts):
    call = parsed(line)
    assert call.client == "wget" and call.timeouts == timeouts
    assert call.fails_on_http_error  # wget exits 8 on an HTTP error status
    assert [u.value for u in call.urls] == [URL]
    assert call.output in ("-", "/tmp/id")


def test_wget_method_and_post_data():
    call = parsed(f"wget --method=PUT --header=X-A:1 {URL}")
    assert call.method == "PUT" and [h.text for h in call.headers] == ["X-A:1"]
    assert parsed(f"wget --post-data=a=b {URL}").method == "POST"


@pytest.mark.parametrize("program", ["http", "https", "xh", "xhs"])
def test_httpie_and_xh_read_alike(program):
    call = parsed(f"{program} --check-status --timeout=2 PUT {URL} X-A:1 k=v")
    assert call.client == "httpie" and call.method == "PUT"
    assert [h.text for h in call.headers] == ["X-A: 1"] and [d.value for d in call.data] == ["k=v"]
    assert call.fails_on_http_error and call.timeouts == {"read": "2"}


def test_aria2c():
    call = parsed(f"aria2c --header=X-A:1 --timeout=4 -o out -x 2 {URL}")
    assert call.client == "aria2c" and call.method == "GET"
    assert [h.text for h in call.headers] == ["X-A:1"] and [u.value for u in call.urls] == [URL]
    assert call.timeouts == {"total": "4"} and call.output == "out"


@pytest.mark.parametrize("program", ["ec2-metadata", "ec2metadata"])
def test_wrapper_tools(program):
    call = parsed(f"{program} -i")
    assert call.wrapper and call.client == program and call.urls == []


def test_programs_outside_the_table_are_not_clients():
    assert parse_argv("echo", [Arg(URL)]) is None
    assert clients.program_name("/usr/bin/curl") == "curl" and clients.program_name("C:\\bin\\curl.exe") == "curl"


def test_every_entry_has_a_reader_and_consistent_fix_data():
    for entry in clients.CLIENTS:
        assert entry.programs and callable(entry.parse)
        if entry.token_fetch is not None:
            command = entry.token_fetch_command("http://169.254.169.254/latest/api/token", 60)
            assert "169.254.169.254/latest/api/token" in command and "60" in command
        if entry.header_option is not None:
            assert "X-T: v" in entry.spell_header("X-T", "v").replace(":v", ": v")


def test_text_fallback_client_words_come_from_the_table():
    pattern = re.compile(clients.command_word_pattern())
    for entry in clients.CLIENTS:
        for program in entry.programs:
            assert pattern.search(f"{program} {URL}"), program
    # Not the scheme of a URL.
    assert not pattern.search(f"echo {URL}") and not pattern.search("https://169.254.169.254/")
    # A program named by its path is still the command word (field corpus: /usr/bin/curl in
    # a Python 2 subprocess string, found only by the text scan).
    assert pattern.search(f"check_output(['/usr/bin/curl -s {URL}'], shell=True)")


# -- aria2c in every carrier, none of which names it -----------------------------------

ARIA = f"aria2c -q -o id {URL}"
CARRIERS = {
    "shell": (f"#!/bin/sh\n{ARIA}\n", "shell"),
    "dockerfile-shell": (f"FROM alpine\nRUN {ARIA}\n", "dockerfile"),
    "dockerfile-exec": (f'FROM alpine\nRUN ["aria2c", "-q", "-o", "id", "{URL}"]\n', "dockerfile"),
    "python-subprocess": (f'import subprocess\nsubprocess.run(["aria2c", "-q", "{URL}"], check=True)\n', "python"),
    "python-shell-string": (f'import os\nos.system("{ARIA}")\n', "python"),
    "compose": (f'services:\n  app:\n    image: alpine\n    command: ["aria2c", "-q", "{URL}"]\n', "yaml"),
    "kubernetes": ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n"
                   f'      image: alpine\n      command: ["aria2c", "{URL}"]\n', "yaml"),
    "ecs": (json.dumps({"family": "f", "networkMode": "bridge", "containerDefinitions": [
        {"name": "c", "image": "x", "command": ["aria2c", URL]}]}, indent=2), "json"),
    "powershell": (f"aria2c.exe -q {URL}\n", "powershell"),
    "github-actions": (f"on: push\njobs:\n  a:\n    runs-on: self-hosted\n    steps:\n      - run: {ARIA}\n", "yaml"),
    "makefile": (f"id:\n\t{ARIA}\n", "makefile"),
    # Added after the table: a new carrier finds the client with no client code of its own.
    "systemd": (f"[Service]\nExecStart=/usr/bin/{ARIA}\n", "systemd"),
}


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_aria2c_is_found_in_every_carrier(carrier):
    text, kind = CARRIERS[carrier]
    found = lint(text, kind)
    assert "IMDS101" in codes(found), (carrier, codes(found))
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "aria2c" in l)
    assert any(f.code == "IMDS101" and f.start.line == line for f in found)


def test_aria2c_in_the_text_fallback():
    requests = text_frontend.scan(Document("text", f"fetch: {ARIA}\n"))
    assert [r.url for r in requests] == [URL]


def test_no_carrier_names_aria2c():
    mentions = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
                if "aria2c" in p.read_text(encoding="utf-8") and p.name != "clients.py"]
    assert mentions == []


def test_aria2c_gets_the_token_header_once_a_script_can_fetch_one():
    script = f"#!/bin/sh\ncurl -sS {URL}\naria2c -q -o id {URL}\n"
    fixed = fix(script)
    assert 'aria2c --header="X-aws-ec2-metadata-token: $IMDS_TOKEN" -q -o id' in fixed
    assert lint(fixed) == []


# -- behaviours that had drifted between the copies, now one ------------------------------


def test_httpie_in_a_subprocess_list_is_flagged():
    found = lint(f'import subprocess\nsubprocess.run(["http", "GET", "{URL}"])\n', "python")
    assert codes(found) == ["IMDS101"]


def test_httpie_in_a_dockerfile_exec_form_is_flagged():
    found = lint(f'FROM alpine\nRUN ["http", "GET", "{URL}"]\n', "dockerfile")
    assert "IMDS101" in codes(found)


def test_httpie_in_a_container_command_array_is_flagged():
    found = lint(f'services:\n  app:\n    image: alpine\n    command: ["xh", "{URL}"]\n', "yaml")
    assert "IMDS101" in codes(found)


@pytest.mark.parametrize("text, kind", [
    ('FROM amazonlinux\nRUN ["ec2-metadata", "-i"]\n', "dockerfile"),
    ('import subprocess\nsubprocess.check_output(["ec2-metadata", "-i"])\n', "python"),
    ("ec2-metadata -i\n", "powershell"),
])
def test_wrapper_tools_are_seen_wherever_an_argv_is(text, kind):
    assert "IMDS102" in codes(lint(text, kind))


def test_httpie_as_a_powershell_native_call_is_flagged():
    assert codes(lint(f"http GET {URL}\n", "powershell")) == ["IMDS101"]


def test_text_fallback_does_not_take_a_url_scheme_for_httpie():
    assert text_frontend.scan(Document("text", f"metadata_url = {URL}\n")) == []
    assert len(text_frontend.scan(Document("text", f"run: http GET {URL}\n"))) == 1


def test_wrapper_programs_get_past_the_prefilter():
    # Wrapper tools name no endpoint, so the prefilter must know their names (it stays light:
    # it cannot import the table, so this test ties the two together).
    from imds_lint import prefilter

    for entry in clients.CLIENTS:
        if entry.wrapper:
            assert all(p.encode() in prefilter.NEEDLES for p in entry.programs), entry.programs


def test_the_shell_fixer_spells_what_the_table_says():
    fixed = fix(f"#!/bin/sh\nwget -qO- {URL}\nhttp {URL}\n", unsafe=True)
    assert f'wget --header="X-aws-ec2-metadata-token: $IMDS_TOKEN" -qO- {URL}' in fixed
    assert f'http {URL} "X-aws-ec2-metadata-token:$IMDS_TOKEN"' in fixed
    assert "--method=PUT" in fixed  # wget's token fetch comes first in the table
