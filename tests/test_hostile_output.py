"""Output that scanned content cannot hijack or break: terminals, GitHub runners, Markdown pages,
JSON and SARIF consumers all get what the data says, never what it would do."""

from __future__ import annotations

import json
import os
import re

import pytest

from imds_lint.cli import main

URL = "http://169.254.169.254/latest/meta-data/instance-id"
# Raw characters that act instead of showing: ESC (colours, OSC 8 links, clearing), BEL, CR,
# C1 CSI, bidi override and isolates, a line separator.
HOSTILE = ["\x1b", "\x07", "\r", "\x9b", "\u202e", "\u2066", "\u2069", "\u2028"]


def _hostile_tree(root) -> None:
    # Each control sits in the request's own line (frame), in the URL (message) or in the name.
    (root / "esc.sh").write_text(f'#!/bin/sh\ncurl "{URL}\x1b]8;;http://evil/\x07click\x1b]8;;\x07" # \x1b[2J\r\n')
    (root / "bidi.sh").write_text(f"#!/bin/sh\ncurl {URL} # \u202eevil\u2066 \x9b31m\n")
    (root / "name\u202egnp.sh").write_text(f"curl {URL}\n")
    (root / "cr\rname.sh").write_text(f"curl {URL}\n")


@pytest.mark.parametrize("fmt", ["text", "text-colour", "github", "markdown"])
def test_controls_and_bidi_characters_never_reach_the_output_raw(tmp_path, monkeypatch, capsys, fmt):
    _hostile_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    if fmt == "text-colour":
        monkeypatch.setenv("FORCE_COLOR", "1")  # the rich path
    else:
        monkeypatch.setenv("NO_COLOR", "1")
    code = main(["--format", fmt.split("-")[0], "."])
    out, err = capsys.readouterr()
    assert code == 1, err
    body = out if fmt != "text-colour" else re.sub(r"\x1b\[[0-9;]*m", "", out)  # our own colours only
    for char in HOSTILE:
        assert char not in body, f"{char!r} reached the {fmt} output"
    # What the data said is still there, spelt out.
    assert "\\x1b]8;;http://evil/\\x07" in body or fmt == "markdown"
    assert "name\\u202egnp.sh" in body


def test_a_cr_cannot_start_a_github_runner_command(tmp_path, monkeypatch, capsys):
    (tmp_path / "a.sh").write_text(f"#!/bin/sh\ncurl '{URL}\r::error file=evil::injected'\n")
    monkeypatch.chdir(tmp_path)
    assert main(["--format", "github", "."]) == 1
    out = capsys.readouterr().out
    assert all(line.startswith("::") or line.startswith("Found ") for line in out.splitlines())
    assert "\r" not in out


@pytest.mark.parametrize("name", ["x[/bold].sh", "[link=https:evil]click[/link].sh", "[bold red]y.sh"])
def test_rich_markup_in_a_file_name_is_shown_not_read(tmp_path, monkeypatch, capsys, name):
    # Before: x[/bold].sh (a file in the folder "x[") crashed the readiness table (MarkupError, exit 2).
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(f"curl {URL}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    code = main(["."])
    out, err = capsys.readouterr()
    assert code == 1, err
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert plain.count(name) >= 2, "named in the finding and in the table, literally"
    assert "\x1b]8;" not in out, "no hyperlink from data"


def test_emoji_codes_in_data_stay_text(tmp_path, monkeypatch, capsys):
    (tmp_path / ":warning:.sh").write_text(f"curl {URL}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    main(["."])
    assert ":warning:.sh" in capsys.readouterr().out


# -- Markdown -------------------------------------------------------------------------------


def _html(markdown: str) -> str:
    from markdown_it import MarkdownIt  # rich's Markdown parser: CommonMark, with GFM tables enabled

    return MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(markdown)


CFN_WITH_HOSTILE_ID = f"""AWSTemplateFormatVersion: '2010-09-09'
Resources:
  "<img src=x onerror=alert(1)>[click](http://evil/)**bold**`tick":
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-12345678
      UserData: !Base64 'curl {URL}'
"""


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>.sh", "[click](http:evil).sh", "a`b``c.sh",
                                  "``.sh", "pipe|cell.sh", "~~struck~~.sh"])
def test_markdown_report_shows_names_literally(tmp_path, monkeypatch, capsys, name):
    (tmp_path / name).write_text(f"curl {URL}\n")
    (tmp_path / "template.yaml").write_text(CFN_WITH_HOSTILE_ID)
    monkeypatch.chdir(tmp_path)
    assert main(["--format", "markdown", "."]) == 1
    html = _html(capsys.readouterr().out)
    assert "<img" not in html and "<a " not in html and "<strong>bold" not in html and "<del>" not in html
    # The name survives, escaped as HTML text, inside one cell of the files table.
    import html as html_module

    assert html_module.escape(name, quote=False) in html
    files_table = html.split("Files to change first", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", files_table, re.S)[1:]
    header = re.findall(r"<tr>(.*?)</tr>", files_table, re.S)[0].count("<th")
    assert len(rows) == 2 and all(row.count("<td") == header for row in rows), "a pipe in a name cannot add a cell"
    # (Its URL is a code span, which GitHub neither autolinks nor reads mentions in.)
    shown = re.sub(r"</?code>", "", html).replace("\\", "")
    assert "onerror=alert(1)&gt;[click](http://evil/)**bold**`tick" in shown, \
        "the logical ID is shown as it is spelt"


# -- encodings of names and messages ----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "markdown", "gitlab", "junit", "checkstyle"])
def test_a_lone_surrogate_costs_nothing_but_its_escape(tmp_path, monkeypatch, capsysbinary, fmt):
    # Before: every format exited 2 with no output (UnicodeEncodeError while writing).
    (tmp_path / "literal.py").write_text(f'import requests\nrequests.get("{URL}\\ud800")\n')
    (tmp_path / "format.py").write_text(f'import requests\nrequests.get(f"{URL}{{chr(0xdfff)}}\\udfff")\n')
    (tmp_path / "ok.sh").write_text(f"curl {URL}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    code = main(["--format", fmt, "."])
    raw = capsysbinary.readouterr().out
    assert code == 1
    text = raw.decode("utf-8")  # valid UTF-8, whatever the scanned literals hold
    assert "ok.sh" in text and "literal.py" in text
    if fmt in ("json", "sarif", "gitlab"):
        json.loads(text)
    if fmt in ("junit", "checkstyle"):
        from xml.etree import ElementTree

        ElementTree.fromstring(raw)


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_a_named_path_with_an_undecodable_byte_is_valid_json(tmp_path, monkeypatch, capsysbinary, fmt):
    name = os.fsdecode(b"bytes-\xff-name.sh")
    (tmp_path / name).write_text(f"curl {URL}\n")
    (tmp_path / "other\x01.sh").write_text(f"curl {URL}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["--format", fmt, name, "other\x01.sh", "."]) == 1
    raw = capsysbinary.readouterr().out
    assert b"\xff" not in raw
    data = json.loads(raw.decode("utf-8"))
    paths = ([f["path"] for f in data["findings"]] if fmt == "json" else
             [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in data["runs"][0]["results"]])
    assert any("\\xff" in p or "%5Cxff" in p for p in paths), paths
