"""Go front-end: http.Get, http.NewRequest + Header.Set + Client.Do, aws-sdk-go ec2metadata facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from imds_lint.frontends.sourcecode import SDK_CLIENT
from tests.helpers import codes, lint
from tests.source_checks import parses, run, suggested, tool

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "go" / "agent.go"


def test_new_request_is_reported_where_it_is_sent():
    code = ('package main\n\nconst base = "http://169.254.169.254/latest"\n\nfunc f() {\n'
            '\treq, _ := http.NewRequest("GET", base+"/meta-data/instance-id", nil)\n'
            '\tresp, _ := client.Do(req)\n\t_ = resp\n}\n')
    [finding] = lint(code, "go")
    assert finding.code == "IMDS101" and finding.start.line == 7


def test_token_header_set_on_the_request_counts():
    code = ('package main\n\nfunc f(t string) {\n'
            '\treq, _ := http.NewRequest(http.MethodGet, "http://169.254.169.254/latest/meta-data/", nil)\n'
            '\treq.Header.Add("X-aws-ec2-metadata-token", t)\n\tclient.Do(req)\n}\n')
    assert lint(code, "go") == []


def test_put_without_ttl_is_a_protocol_finding():
    code = ('package main\n\nfunc f() {\n'
            '\treq, _ := http.NewRequest(http.MethodPut, "http://169.254.169.254/latest/api/token", nil)\n'
            '\tclient.Do(req)\n}\n')
    assert codes(lint(code, "go")) == ["IMDS506"]


def test_sprintf_urls_resolve():
    code = ('package main\n\nconst imds = "http://169.254.169.254"\n\nfunc f(p string) {\n'
            '\thttp.Get(fmt.Sprintf("%s/latest/meta-data/%s", imds, p))\n}\n')
    assert codes(lint(code, "go")) == ["IMDS101"]


def test_ec2metadata_client_is_a_dependency_fact_not_a_finding():
    from imds_lint.config import Settings
    from imds_lint.engine import Linter
    from tests.helpers import source_of

    code = 'package main\n\nfunc f() {\n\tsvc := ec2metadata.New(sess)\n\t_ = svc\n}\n'
    assert lint(code, "go") == []
    from imds_lint.frontends import lang_golang
    from imds_lint.model import Document

    [analysis] = lang_golang.analyze(Document("go", code), None)
    [fact] = analysis.facts[SDK_CLIENT]
    assert "1.25.38" in fact.token_aware_from
    assert Linter(Settings()).lint_text(code, "go", source_of(code), "x.go")[0] == []


def test_gcp_look_alike_is_not_flagged():
    code = ('package main\n\nfunc f() {\n'
            '\treq, _ := http.NewRequest("GET", "http://169.254.169.254/computeMetadata/v1/", nil)\n'
            '\treq.Header.Set("Metadata-Flavor", "Google")\n\tclient.Do(req)\n}\n')
    assert lint(code, "go") == []


def test_suggestions_parse_and_compile(tmp_path):
    text = FIXTURE.read_text()
    fixed, findings = suggested(text, "go")
    assert len(findings) == 2 and all("/latest/api/token" in f.message for f in findings)
    assert fixed != text and parses(fixed, "go")
    assert "func imdsToken2() string" in fixed  # the file already has an imdsToken
    gofmt = tool("gofmt")
    if gofmt:
        path = tmp_path / "main.go"
        path.write_text(fixed)
        assert run([gofmt, "-e", "-l", str(path)]).returncode == 0
    go = tool("go")
    if go:
        (tmp_path / "go.mod").write_text("module example.com/agent\n\ngo 1.19\n")
        result = run([go, "vet", "./..."], cwd=tmp_path)
        assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_suggested_agent_runs_against_the_emulator(emulator, tmp_path):
    go = tool("go")
    if not go:
        pytest.skip("go is not installed")
    from tests.emulator import point_at

    fixed, _ = suggested(FIXTURE.read_text(), "go")
    (tmp_path / "main.go").write_text(point_at(fixed, emulator))
    (tmp_path / "go.mod").write_text("module example.com/agent\n\ngo 1.19\n")
    result = run([go, "run", "."], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "i-0123456789abcdef0 t3.micro" in result.stdout


def test_a_parameter_holds_what_the_callers_pass_not_another_functions_local():
    code = ('package main\n\nfunc ec2(t string) {\n'
            '\turl := "http://169.254.169.254/latest/meta-data/instance-id"\n'
            '\treq, _ := http.NewRequest("GET", url, nil)\n\treq.Header.Set("X-aws-ec2-metadata-token", t)\n'
            '\tclient.Do(req)\n}\n\n'
            'func openstack() { get("http://169.254.169.254/openstack/latest/meta_data.json") }\n\n'
            'func get(url string) { http.Get(url) }\n')
    assert lint(code, "go") == []
    # The same helper given an EC2 URL by a caller is reported where it sends.
    code = code.replace('func openstack() {', 'func id() { get("http://169.254.169.254/latest/meta-data/ami-id") }\n'
                                               'func openstack() {')
    [finding] = lint(code, "go")
    assert finding.start.line == code.count("\n", 0, code.index("http.Get(url)")) + 1
    assert "meta-data/ami-id" in finding.message


def test_struct_fields_resolve_per_struct_type():
    code = ('package main\n\ntype EC2 struct{ Base string }\ntype OpenStack struct{ Base string }\n\n'
            'var e = &EC2{Base: "http://169.254.169.254/latest/meta-data"}\n'
            'var o = OpenStack{Base: "http://169.254.169.254/openstack/latest"}\n\n'
            'func (c *EC2) id() { http.Get(c.Base + "/instance-id") }\n'
            'func (c OpenStack) id() { http.Get(c.Base + "/meta_data.json") }\n')
    [finding] = lint(code, "go")
    assert finding.start.line == 9 and "meta-data/instance-id" in finding.message


def test_a_field_of_an_unknown_one_of_several_structs_is_not_guessed():
    code = ('package main\n\ntype A struct{ URL string }\ntype B struct{ URL string }\n\n'
            'var a = A{URL: "http://169.254.169.254/latest/meta-data/"}\n'
            'var b = B{URL: "http://169.254.169.254/openstack/latest/"}\n\n'
            'func get(x interface{ }) { http.Get(pick().URL) }\n')
    assert lint(code, "go") == []
