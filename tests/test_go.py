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
    # The file already has an imdsToken; one helper serves both requests, with the imports it needs.
    assert fixed.count("func imdsToken2(ctx context.Context, do func(*http.Request) (*http.Response, error))") == 1
    assert '\t"context"\n\t"fmt"\n\t"io"\n\t"net/http"\n\t"sync"\n\t"time"\n)' in fixed
    compiles(fixed, tmp_path)


def compiles(text: str, folder: Path) -> None:
    """gofmt parses it, and (where a Go toolchain is installed) go vet builds and checks it."""
    gofmt = tool("gofmt")
    if gofmt:
        path = folder / "main.go"
        path.write_text(text)
        assert run([gofmt, "-e", "-l", str(path)]).returncode == 0
    go = tool("go")
    if go:
        (folder / "go.mod").write_text("module example.com/agent\n\ngo 1.19\n")
        result = run([go, "vet", "./..."], cwd=folder)
        assert result.returncode == 0, result.stderr


def test_the_token_is_cached_once_per_process_and_fetched_with_the_requests_own_client_and_context():
    text, _ = suggested(FIXTURE.read_text(), "go")
    helper = text[text.index("func imdsToken2("):]
    # Under a lock, reused until shortly before its TTL ends; a failed fetch is retried a minute later.
    assert "imdsToken2Cache.Lock()" in helper and "time.Now().Before(imdsToken2Cache.expires)" in helper
    assert "time.Now().Add(21540*time.Second)" in helper and "time.Now().Add(time.Minute)" in helper
    assert "http.NewRequestWithContext(ctx, http.MethodPut" in helper and "resp, err := do(req)" in helper
    # The sender's time-out (client has Timeout: 2s) and the request's context hold for the fetch.
    assert '\treq.Header.Set("X-aws-ec2-metadata-token", imdsToken2(req.Context(), client.Do))\n' \
           '\tresp, err := client.Do(req) // expect: IMDS101' in text


def test_a_helper_that_also_serves_other_hosts_gets_no_token_header_and_says_why(tmp_path):
    code = ('package main\n\nimport (\n\t"fmt"\n\t"net/http"\n)\n\n'
            'func get(url string) (*http.Response, error) {\n'
            '\treq, err := http.NewRequest("GET", url, nil)\n\tif err != nil {\n\t\treturn nil, err\n\t}\n'
            '\treturn http.DefaultClient.Do(req)\n}\n\n'
            'func main() {\n\tid, _ := get("http://169.254.169.254/latest/meta-data/instance-id")\n'
            '\tstatus, _ := get("https://status.example.com/health")\n\tfmt.Println(id, status)\n}\n')
    fixed, [finding] = suggested(code, "go")
    assert fixed == code and finding.fix.edits == ()
    assert "no suggestion: the wrapper also serves callers that talk to other hosts" in finding.message
    # Given only metadata URLs, the same helper gets the suggestion.
    only_imds = code.replace("https://status.example.com/health", "http://169.254.169.254/latest/meta-data/ami-id")
    fixed, findings = suggested(only_imds, "go")
    assert fixed.count("imdsToken(req.Context(), http.DefaultClient.Do)") == 1 and len(findings) == 1
    compiles(fixed, tmp_path)


def test_a_file_without_imports_gets_the_ones_the_helper_uses(tmp_path):
    code = ('package main\n\nfunc main() {\n\tresp, err := http.Get("http://169.254.169.254/latest/meta-data/ami-id")\n'
            '\t_, _ = resp, err\n}\n')
    fixed, _ = suggested(code, "go")
    assert fixed.startswith('package main\n\nimport (\n\t"context"\n\t"io"\n\t"net/http"\n\t"sync"\n\t"time"\n)\n')
    assert parses(fixed, "go")
    compiles(fixed, tmp_path)


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


def test_suggestion_sets_the_header_after_the_err_check_and_uses_the_imports_there():
    from tests.source_checks import suggested

    code = ('package main\n\nimport (\n\t"io/ioutil"\n\t"net/http"\n)\n\n'
            'func instanceType() (string, error) {\n'
            '\treq, err := http.NewRequest("GET", "http://169.254.169.254/latest/meta-data/instance-type", nil)\n'
            '\tif err != nil {\n\t\treturn "", err\n\t}\n'
            '\tresp, err := http.DefaultClient.Do(req)\n\tif err != nil {\n\t\treturn "", err\n\t}\n'
            '\tdefer resp.Body.Close()\n\tb, err := ioutil.ReadAll(resp.Body)\n\treturn string(b), err\n}\n')
    text, _ = suggested(code, "go")
    lines = text.splitlines()
    set_at = next(i for i, line in enumerate(lines) if "X-aws-ec2-metadata-token\", imdsToken(" in line)
    # Not between NewRequest and its err check (a nil request would panic there): before the send.
    assert lines[set_at - 1] == "\t}" and "if err != nil" in lines[set_at - 3]
    assert "http.DefaultClient.Do(req)" in lines[set_at + 1]
    assert "token, err := ioutil.ReadAll(resp.Body)\n" in text and "io.ReadAll" not in text
    assert parses(text, "go")


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


def test_a_withheld_suggestion_is_explained_in_the_message_and_offered_nowhere(capsys, monkeypatch):
    from imds_lint.cli import main

    monkeypatch.setenv("NO_COLOR", "1")
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "go" / "heartbeat.go"
    assert main([str(fixture)]) == 1
    out = capsys.readouterr().out
    assert "(no suggestion: the wrapper also serves callers that talk to other hosts" in out
    assert "= fix:" not in out  # nothing to apply or show
    assert main(["--diff", str(fixture)]) == 0 and "@@" not in capsys.readouterr().out  # --diff: no rewrite
