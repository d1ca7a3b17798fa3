"""The PowerShell front-end and fixer. pwsh is not installable here, so fixed scripts are
parse-checked with the grammar (and run against the emulator only where pwsh exists)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imds_lint.config import Settings
from imds_lint.engine import Linter, Session
from imds_lint.frontends import powershell
from imds_lint.model import Applicability, Document
from tests.emulator import point_at
from tests.helpers import codes, fix, lint

URL = "http://169.254.169.254/latest/meta-data/instance-id"
GUARD = "if ($null -eq (Get-Variable -Name IMDS_TOKEN -Scope Script -ValueOnly -ErrorAction Ignore))"
PUT = "$script:IMDS_TOKEN = Invoke-RestMethod -Method PUT -Uri http://169.254.169.254/latest/api/token"
TTL = "'X-aws-ec2-metadata-token-ttl-seconds' = '21600'"
HEADER = "-Headers @{'X-aws-ec2-metadata-token' = $script:IMDS_TOKEN}"
NOT_RUN = "unsafe: no PowerShell runtime here has run this rewrite in the three worlds"


def fetch_lines(indent: str = "", timeout: str = "", newline: str = "\n") -> str:
    """The guarded fetch on its own lines, as the fixer writes it before a statement at ``indent``."""
    lines = [f"{GUARD} {{", "    try {", f"        {PUT}{timeout} -ErrorAction Stop -Headers @{{", f"            {TTL}",
             "        }", "    } catch {", "        $script:IMDS_TOKEN = ''", "    }", "}"]
    return newline.join(indent + line for line in lines) + newline


def fetch_inline(timeout: str = "") -> str:
    return f"{GUARD} {{ try {{ {PUT}{timeout} -ErrorAction Stop -Headers @{{{TTL}}} }} catch {{ $script:IMDS_TOKEN = '' }} }}"


def ps(text: str):
    return lint(text, "powershell")


@pytest.mark.parametrize("line, client", [
    (f"Invoke-RestMethod -Uri {URL}", "Invoke-RestMethod"),
    (f"Invoke-RestMethod {URL}", "Invoke-RestMethod"),
    (f"irm -UseBasicParsing '{URL}'", "Invoke-RestMethod"),
    (f'iwr -Uri "{URL}" -UseBasicParsing', "Invoke-WebRequest"),
    (f"Invoke-WebRequest -UseB -Ur {URL}", "Invoke-WebRequest"),
    (f"curl {URL}", "Invoke-WebRequest"),
    (f"wget -Uri {URL} -OutFile id.txt", "Invoke-WebRequest"),
    (f"curl.exe -s {URL}", "curl"),
    (f"curl -s {URL}", "curl"),
    (f"(New-Object System.Net.WebClient).DownloadString('{URL}')", "WebClient"),
    (f'[System.Net.WebClient]::new().DownloadString("{URL}")', "WebClient"),
    (f'$c = [System.Net.Http.HttpClient]::new()\n$c.GetStringAsync("{URL}").Result', "HttpClient"),
    (f'$r = [System.Net.WebRequest]::Create("{URL}")\n$r.GetResponse()', "WebRequest"),
    (f"[Net.WebRequest]::Create('{URL}').GetResponse()", "WebRequest"),
    (f"[System.Net.HttpWebRequest]::CreateHttp('{URL}')", "WebRequest"),
    (f"Invoke-RestMethod \u2013Uri {URL} \u2013UseBasicParsing", "Invoke-RestMethod"),
    (f"Invoke-WebRequest \u2014UseBasicParsing \u2014Uri {URL}", "Invoke-WebRequest"),
    (f"$p = @{{ Uri = '{URL}'; UseBasicParsing = $true }}\nInvoke-WebRequest @p", "Invoke-WebRequest"),
])
def test_clients_are_found(line, client):
    found = ps(line + "\n")
    assert codes(found) == ["IMDS101"]
    assert found[0].message.startswith(client + " sends GET")


def test_a_web_request_given_its_token_header_and_method_is_seen_as_such():
    text = ("$t = [System.Net.WebRequest]::Create('http://169.254.169.254/latest/api/token')\n"
            "$t.Method = 'PUT'\n$t.Headers.Add('X-aws-ec2-metadata-token-ttl-seconds', '60')\n"
            "$token = (New-Object IO.StreamReader($t.GetResponse().GetResponseStream())).ReadToEnd()\n"
            f"$r = [System.Net.WebRequest]::Create('{URL}')\n"
            "$r.Headers.Add('X-aws-ec2-metadata-token', $token)\n")
    assert ps(text) == []


def test_a_call_nested_in_a_header_table_keeps_its_own_headers_and_method():
    # The documented one-liner: only the inner call is the token request.
    text = ('Invoke-RestMethod -Headers @{"X-aws-ec2-metadata-token" = Invoke-RestMethod -Headers '
            '@{"X-aws-ec2-metadata-token-ttl-seconds" = "21600"} `\n'
            "-Method PUT -Uri http://169.254.169.254/latest/api/token} -Method GET -uri http://169.254.169.254/latest/user-data\n")
    assert ps(text) == []


def test_the_result_of_a_call_with_a_nested_token_request_is_not_a_token():
    text = ('$userData = Invoke-RestMethod -Headers @{"X-aws-ec2-metadata-token" = (Invoke-RestMethod -Method PUT '
            "-Uri http://169.254.169.254/latest/api/token -Headers @{'X-aws-ec2-metadata-token-ttl-seconds' = 60})} "
            "-Uri http://169.254.169.254/latest/user-data\n"
            f"Invoke-RestMethod -Uri {URL}\n")
    fixed = fix(text, "powershell", unsafe=True)
    assert "= $userData" not in fixed and "'X-aws-ec2-metadata-token' = $script:IMDS_TOKEN" in fixed


def test_urls_through_variables_and_expansion():
    text = ("$Imds = 'http://169.254.169.254'\n$Base = \"$Imds/latest\"\n"
            "$a = Invoke-RestMethod \"$Base/meta-data/ami-id\"\n"
            "$b = Invoke-RestMethod \"${Base}/meta-data/hostname\"\n"
            "$c = Invoke-RestMethod ($Base + '/meta-data/mac')\n")
    assert [f.start.line for f in ps(text)] == [3, 4, 5]


def test_urls_through_parameters_bound_where_the_function_is_called():
    # A crawler that walks the metadata tree recursively, and a helper called by name or position:
    # the URL reaches the request only through the parameter a call binds.
    text = ("param([string]$Root = 'http://169.254.169.254/latest/meta-data')\n"
            "$wc = New-Object System.Net.WebClient\n"
            "function Read-Tree($Node) {\n"
            "    foreach ($child in $wc.DownloadString($Node).Split(\"`n\")) {\n"
            "        Read-Tree(\"$Node/$child\")\n"
            "    }\n"
            "}\n"
            "function Read-Key {\n"
            "    param([string]$Name, [string]$Under)\n"
            "    Invoke-RestMethod -Uri \"$Under/$Name\"\n"
            "}\n"
            "function Read-Page($Page) { Invoke-RestMethod -Uri $Page }\n"
            "Read-Tree($Root)\n"
            "Read-Key -Und $Root -Name 'instance-id'\n"
            "Read-Key 'ami-id' $Root\n"
            "Read-Page 'https://example.com/status'\n")
    assert [(f.start.line, f.code) for f in ps(text)] == [(4, "IMDS101"), (10, "IMDS101")]


def test_a_parameter_bound_only_to_other_urls_or_never_called_is_not_imds():
    text = ("function Get-Page($Url) { Invoke-RestMethod -Uri $Url }\n"
            "function Get-Unused($Url2) { Invoke-RestMethod -Uri $Url2 }\n"
            "Get-Page -Url 'https://example.com/a'\n"
            "Get-Page 'https://example.com/b'\n"
            "Write-Output 'http://169.254.169.254/latest/meta-data'\n")
    assert ps(text) == []


def test_tokens_in_hashtables_and_variables_are_seen():
    text = (f"$t = Invoke-RestMethod -Method Put -Uri http://169.254.169.254/latest/api/token "
            f"-Headers @{{'X-aws-ec2-metadata-token-ttl-seconds' = 300}}\n"
            f"Invoke-RestMethod -Headers @{{'X-aws-ec2-metadata-token' = $t}} -Uri {URL}\n"
            f"$h = @{{ \"X-aws-ec2-metadata-token\" = $t }}\nInvoke-RestMethod -Uri {URL} -Headers $h\n"
            f"$wc = New-Object Net.WebClient\n$wc.Headers.Add('X-aws-ec2-metadata-token', $t)\n"
            f"$wc.DownloadString('{URL}')\n")
    assert ps(text) == []


def test_headers_from_somewhere_unknown_are_not_guessed():
    assert ps(f"Invoke-RestMethod -Uri {URL} -Headers (Get-Headers)\n") == []


def test_get_ec2_instance_metadata_is_low_severity():
    found = ps("$id = Get-EC2InstanceMetadata -Category InstanceId\n")
    assert codes(found) == ["IMDS102"] and found[0].severity.value == "info"
    assert "4.0.1.0" in found[0].message


def test_fix_fetches_one_token_and_adds_headers():
    text = f"$id = Invoke-RestMethod -Uri {URL}\r\n$ami = irm http://169.254.169.254/latest/meta-data/ami-id\r\n"
    fixed = fix(text, "powershell", unsafe=True)
    assert fixed == (fetch_lines(newline="\r\n")
                     + f"$id = Invoke-RestMethod {HEADER} -Uri {URL}\r\n"
                     f"$ami = irm {HEADER} http://169.254.169.254/latest/meta-data/ami-id\r\n")
    assert powershell.syntax_errors(fixed) == 0
    assert fix(fixed, "powershell", unsafe=True) == fixed
    assert ps(fixed) == []


def test_token_fixes_are_unsafe_and_say_no_runtime_ran_them():
    # No pwsh can be installed here, so no PowerShell rewrite has run in the three worlds.
    text = f"$id = Invoke-RestMethod -Uri {URL}\n"
    [finding] = ps(text)
    assert finding.fix.applicability is Applicability.UNSAFE and NOT_RUN in finding.fix.title
    assert fix(text, "powershell") == text


SHARED_URL = "the wrapper also serves callers that talk to other hosts"
SHARED_CLIENT = "the client also sends requests to other hosts"


@pytest.mark.parametrize("text, reason", [
    # One helper fetches pages for IMDS and for another host: the token would go to both.
    ("function Get-Doc($Address) {\n    $c = New-Object System.Net.WebClient\n    $c.DownloadString($Address)\n}\n"
     f"Get-Doc '{URL}'\nGet-Doc 'https://status.example.org/ping'\n", SHARED_URL),
    ("$target = 'https://status.example.org/ping'\n$target = '" + URL + "'\nInvoke-RestMethod -Uri $target\n",
     SHARED_URL),
    # One WebClient reads IMDS, then a page elsewhere: the header set on it goes with both.
    (f"$web = New-Object System.Net.WebClient\n$id = $web.DownloadString('{URL}')\n"
     "$page = $web.DownloadString('https://status.example.org/ping')\n", SHARED_CLIENT),
])
def test_a_token_that_would_also_reach_another_host_says_so(text, reason):
    [finding] = ps(text)
    assert finding.fix.applicability is Applicability.UNSAFE and reason in finding.fix.title, finding.fix.title


def test_a_helper_and_a_client_used_for_imds_only_have_no_such_reason():
    text = ("function Get-Doc($Address) {\n    $c = New-Object System.Net.WebClient\n    $c.DownloadString($Address)\n}\n"
            f"Get-Doc '{URL}'\nGet-Doc '{URL}/../ami-id'\n"
            f"$web = New-Object System.Net.WebClient\n$id = $web.DownloadString('{URL}')\n")
    findings = ps(text)
    assert len(findings) == 2
    for finding in findings:
        assert SHARED_URL not in finding.fix.title and SHARED_CLIENT not in finding.fix.title, finding.fix.title


def test_protocol_fixes_on_a_token_request_stay_safe():
    # A GET to the token path fails in every world; sending it as PUT changes nothing else.
    text = ("$t = Invoke-RestMethod -Uri http://169.254.169.254/latest/api/token "
            "-Headers @{'X-aws-ec2-metadata-token-ttl-seconds' = '60'}\n")
    fixed = fix(text, "powershell")
    assert "Invoke-RestMethod -Method PUT -Uri" in fixed and fixed.count("api/token") == 1


def test_fetch_goes_in_the_function_that_makes_the_request_not_at_dot_source_time():
    text = ("# Dot-sourced by the build scripts: defining these functions must send nothing.\n"
            "function Get-InstanceId {\n"
            "    param([int]$Timeout = 2)\n"
            f"    Invoke-RestMethod -Uri {URL} -TimeoutSec 2\n"
            "}\n\n"
            "function Get-Zone {\n"
            "    try {\n"
            "        return Invoke-RestMethod -Uri http://169.254.169.254/latest/meta-data/placement/availability-zone\n"
            "    } catch {\n        return 'unknown'\n    }\n}\n")
    fixed = fix(text, "powershell", unsafe=True)
    lines = fixed.splitlines()
    # Nothing runs at top level: every line outside the two function bodies is as it was.
    assert [line for line in lines if not line.startswith((" ", "}", "function"))] == \
        ["# Dot-sourced by the build scripts: defining these functions must send nothing.", ""]
    # In Get-InstanceId, at its indentation, with the request's -TimeoutSec; in Get-Zone, inside its try.
    assert fetch_lines("    ", " -TimeoutSec 2") + f"    Invoke-RestMethod {HEADER} -Uri {URL} -TimeoutSec 2\n" in fixed
    assert fetch_lines("        ") + f"        return Invoke-RestMethod {HEADER} -Uri" in fixed
    assert fixed.count(GUARD) == 2 and powershell.syntax_errors(fixed) == 0
    assert fix(fixed, "powershell", unsafe=True) == fixed


def test_one_fetch_serves_the_later_requests_of_its_block_and_the_blocks_inside_it():
    text = (f"$a = Invoke-RestMethod -Uri {URL}\n"
            "foreach ($p in 'ami-id', 'hostname') {\n"
            "    Invoke-RestMethod -Uri \"http://169.254.169.254/latest/meta-data/$p\"\n}\n")
    fixed = fix(text, "powershell", unsafe=True)
    assert fixed.count(GUARD) == 1 and fixed.startswith(fetch_lines())
    assert f"    Invoke-RestMethod {HEADER} -Uri" in fixed


def test_a_request_in_a_parameter_default_gets_no_fetch():
    # The default runs when the function is called, before its body: no statement runs exactly then.
    text = f"function Get-Id {{\n    param($Id = (Invoke-RestMethod -Uri {URL}))\n    $Id\n}}\n"
    [finding] = ps(text)
    assert finding.fix.edits == () and finding.fix.applicability is Applicability.DISPLAY_ONLY
    assert "(no suggestion: " in finding.message and "a parameter default runs before its function's body" \
        in finding.message
    assert fix(text, "powershell", unsafe=True) == text


@pytest.mark.parametrize("text, reason", [
    (f"if ($env:CI) {{ 'ci' }} elseif (Invoke-RestMethod -Uri {URL}) {{ 'ec2' }}\n", "after an elif condition failed"),
    (f"$onEc2 = (Test-Path C:\\ProgramData\\Amazon) -and (Invoke-RestMethod -Uri {URL})\n", "-and/-or/&&/||"),
    (f"$t = 3\nInvoke-RestMethod -Uri {URL} -TimeoutSec $t\n", "time limit"),
])
def test_what_the_plan_cannot_prove_is_named_in_the_title(text, reason):
    [finding] = [f for f in ps(text) if f.code == "IMDS101"]
    assert NOT_RUN in finding.fix.title and reason in finding.fix.title


def test_fix_merges_into_an_existing_hashtable_and_a_hashtable_variable_is_left_alone():
    text = f"Invoke-RestMethod -Uri {URL} -Headers @{{ Accept = 'text/plain' }}\n"
    assert "@{ 'X-aws-ec2-metadata-token' = $script:IMDS_TOKEN; Accept = 'text/plain' }" in fix(
        text, "powershell", unsafe=True)
    text = f"$h = @{{}}\nInvoke-RestMethod -Uri {URL} -Headers @{{}}\n"
    assert "-Headers @{'X-aws-ec2-metadata-token' = $script:IMDS_TOKEN}" in fix(text, "powershell", unsafe=True)


def test_fix_reuses_an_existing_token_and_indents_inside_blocks():
    text = ("$tok = Invoke-RestMethod -Method PUT -Uri http://169.254.169.254/latest/api/token "
            "-Headers @{'X-aws-ec2-metadata-token-ttl-seconds' = '60'}\n"
            f"function Get-Id {{\n    Invoke-RestMethod -Uri {URL}\n}}\n")
    fixed = fix(text, "powershell", unsafe=True)
    assert "Invoke-RestMethod -Headers @{'X-aws-ec2-metadata-token' = $tok} -Uri" in fixed
    assert fixed.count("api/token") == 1


def test_webclient_in_a_variable_gets_its_header_set_after_the_fetch():
    text = f"$wc = New-Object System.Net.WebClient\n$id = $wc.DownloadString('{URL}')\n"
    fixed = fix(text, "powershell", unsafe=True)
    assert fixed == (f"$wc = New-Object System.Net.WebClient\n{fetch_lines()}"
                     f"$wc.Headers['X-aws-ec2-metadata-token'] = $script:IMDS_TOKEN\n$id = $wc.DownloadString('{URL}')\n")
    assert ps(fixed) == []


def test_utf16_crlf_file_is_read_and_fixed_in_its_own_encoding(tmp_path):
    text = f"# user-data\r\n$id = Invoke-RestMethod -Uri {URL}\r\n"
    path = tmp_path / "bootstrap.ps1"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    linter = Linter(Settings(root=tmp_path))
    result = linter.lint_file(path, "bootstrap.ps1")
    assert [(f.start.line, f.code) for f in result.findings] == [(2, "IMDS101")]
    linter.fix_file(path, "bootstrap.ps1", unsafe=True, write=True)
    raw = path.read_bytes()
    assert raw.startswith(b"\xff\xfe")
    written = raw[2:].decode("utf-16-le")
    assert written.startswith(f"# user-data\r\n{fetch_lines(newline=chr(13) + chr(10))}$id = Invoke-RestMethod -Headers")
    assert "\n" not in written.replace("\r\n", "")


def test_powershell_shell_in_a_dockerfile_is_fixed_with_backtick_continuations():
    text = ("# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
            'SHELL ["powershell", "-Command"]\n'
            f"RUN $id = Invoke-RestMethod `\n    -Uri {URL}; `\n    Set-Content C:\\id.txt $id\n")
    found = lint(text, "dockerfile")
    assert sorted(codes(found)) == ["IMDS101", "IMDS201"]
    fixed = fix(text, "dockerfile", unsafe=True)
    # Embedded in a RUN, the fetch stays on the RUN's own line.
    assert fixed.splitlines()[3] == "RUN " + fetch_inline() + "; `"
    assert f"$id = Invoke-RestMethod {HEADER} `" in fixed
    assert fix(fixed, "dockerfile", unsafe=True) == fixed


@given(st.lists(st.sampled_from(["Invoke-RestMethod ", "-Uri ", URL, "$x", " = ", "@{", "}", "'", '"', "`\n",
                                 "\n", "(New-Object Net.WebClient).DownloadString(", ")", "-Headers "]),
                max_size=40).map("".join))
def test_any_text_is_read_without_raising(text):
    notes: list[str] = []
    powershell.analyze(Document("powershell", text), Session(notes))
    assert not any("internal error" in n for n in notes)


FIXTURE = Path(__file__).resolve().parents[1] / "fixtures/powershell/windows-user-data.unsafe-fixed.ps1"


def test_fixed_fixture_parses():
    from imds_lint.source import decode

    assert powershell.syntax_errors(decode(FIXTURE.read_bytes()).text) == 0


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pwsh") is None, reason="pwsh is not installed (parse-checked instead)")
def test_fixed_script_runs_against_the_emulator(emulator, tmp_path):  # pragma: no cover - needs pwsh
    fixed = fix(f"$id = Invoke-RestMethod -Uri {URL}\nWrite-Output $id\n", "powershell", unsafe=True)
    script = tmp_path / "s.ps1"
    script.write_text(point_at(fixed, emulator))
    done = subprocess.run(["pwsh", "-NoProfile", "-File", str(script)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "i-0123456789abcdef0"
    assert emulator.unauthorized == 0
