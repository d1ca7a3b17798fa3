"""The text output's code frame: carets under the token a finding is about, advice on its own line."""

from __future__ import annotations

import pytest

from imds_lint.cli import main

URL = "http://169.254.169.254/latest/meta-data"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def carets(out: str) -> list[tuple[str, str]]:
    """(source line, the text above the carets) for every frame in ``out``."""
    lines = out.splitlines()
    found = []
    for i, line in enumerate(lines):
        if "| " in line and set(line.split("| ", 1)[1].strip()) == {"^"} and i:
            source = lines[i - 1].split("| ", 1)[1]
            marks = line.split("| ", 1)[1]
            start = len(marks) - len(marks.lstrip())
            found.append((source, source[start:len(marks)]))
    return found


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("user-data.yaml", f'#cloud-config\nruncmd:\n  - [ curl, -s, "{URL}/instance-id" ]\n', "curl"),
    ("user-data.yaml", f'#cloud-config\nruncmd:\n  - [sh, -c, "curl -s {URL}/local-ipv4"]\n', "curl"),
    ("user-data.yaml", f'#cloud-config\nruncmd:\n  - "curl -s {URL}/ami-id"\n', "curl"),
    ("docker-compose.yml", f'services:\n  app:\n    image: alpine\n    command: ["sh", "-c", "curl -s {URL}/ami-id"]\n',
     "curl"),
    ("site.yml", f'- hosts: all\n  tasks:\n    - ansible.builtin.shell: "curl -s {URL}/{{{{ key }}}}"\n', "curl"),
    ("site.yml", '- hosts: all\n  vars:\n    imds: http://169.254.169.254\n  tasks:\n'
                 '    - ansible.builtin.uri:\n        url: "{{ imds }}/latest/meta-data/ami-id"\n',
     '"{{ imds }}/latest/meta-data/ami-id"'),
], ids=["cloud-init-argv", "cloud-init-sh-c", "cloud-init-string", "compose-sh-c", "ansible-shell-jinja",
        "ansible-uri-jinja"])
def test_carets_sit_under_the_whole_token(project, capsys, name, text, expected):
    (project / name).write_text(text)
    assert main(["--select", "IMDS101", name]) == 1
    frames = carets(capsys.readouterr().out)
    assert frames and all(marked == expected for _, marked in frames), frames


def test_hop_limit_advice_is_a_help_line_not_part_of_the_message(project, capsys):
    (project / "Dockerfile").write_text(f"FROM alpine:3.20\nRUN curl -s {URL}/ami-id\n")
    assert main(["--select", "IMDS201", "Dockerfile"]) == 1
    out = capsys.readouterr().out
    head = out.splitlines()[0]
    assert head.startswith("Dockerfile:2:5: IMDS201 [warning]") and len(head) < 200
    assert "http_put_response_hop_limit" not in head
    assert "  = help: Raise http_put_response_hop_limit to 2" in out
