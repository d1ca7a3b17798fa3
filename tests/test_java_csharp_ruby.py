"""Java, C# and Ruby front-ends: detection, token-first negatives, SDK facts, suggestions that parse."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from imds_lint.frontends.sourcecode import SDK_CLIENT
from imds_lint.model import Document
from tests.helpers import codes, fix, lint
from tests.source_checks import parses, suggested

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

CASES = [
    ("java-urlconnection", "java",
     'class A {\n  String f() throws Exception {\n    HttpURLConnection c = (HttpURLConnection) '
     'new URL("http://169.254.169.254/latest/meta-data/ami-id").openConnection();\n'
     '    return read(c.getInputStream());\n  }\n}\n', ["IMDS101"]),
    ("java-urlconnection-token", "java",
     'class A {\n  String f(String t) throws Exception {\n    HttpURLConnection c = (HttpURLConnection) '
     'new URL("http://169.254.169.254/latest/meta-data/ami-id").openConnection();\n'
     '    c.setRequestProperty("X-aws-ec2-metadata-token", t);\n    return read(c.getInputStream());\n  }\n}\n', []),
    ("java-apache", "java",
     'class A {\n  void f() throws Exception {\n    HttpGet get = new HttpGet("http://169.254.169.254/latest/meta-data/");\n'
     '    client.execute(get);\n  }\n}\n', ["IMDS101"]),
    ("java-put-no-method", "java",
     'class A {\n  void f() throws Exception {\n    HttpRequest r = HttpRequest.newBuilder(URI.create("http://169.254.169.254/latest/api/token"))'
     '.header("X-aws-ec2-metadata-token-ttl-seconds", "60").build();\n    http.send(r, h);\n  }\n}\n', ["IMDS505"]),
    ("csharp-webclient", "csharp",
     'class W {\n  string F() {\n    var wc = new WebClient();\n'
     '    return wc.DownloadString("http://169.254.169.254/latest/meta-data/");\n  }\n}\n', ["IMDS101"]),
    ("csharp-default-headers", "csharp",
     'class W {\n  async Task<string> F(string t) {\n    client.DefaultRequestHeaders.Add("X-aws-ec2-metadata-token", t);\n'
     '    return await client.GetStringAsync("http://169.254.169.254/latest/meta-data/");\n  }\n}\n', []),
    ("csharp-azure", "csharp",
     'class W {\n  async Task F() {\n    var m = new HttpRequestMessage(HttpMethod.Get, "http://169.254.169.254/metadata/instance");\n'
     '    m.Headers.Add("Metadata", "true");\n    await client.SendAsync(m);\n  }\n}\n', []),
    # A WebClient's headers reach the requests after them in their method or a lambda inside it, not
    # those before them or in another method (one index per file, not every call per request).
    ("csharp-webclient-header-in-enclosing-method", "csharp",
     'class W {\n  Func<string> F(WebClient wc, string t) {\n    wc.Headers.Add("X-aws-ec2-metadata-token", t);\n'
     '    return () => wc.DownloadString("http://169.254.169.254/latest/meta-data/");\n  }\n}\n', []),
    ("csharp-webclient-header-after-request", "csharp",
     'class W {\n  string F(WebClient wc, string t) {\n    var id = wc.DownloadString("http://169.254.169.254/latest/meta-data/");\n'
     '    wc.Headers["X-aws-ec2-metadata-token"] = t;\n    return id;\n  }\n}\n', ["IMDS101"]),
    ("csharp-webclient-header-in-another-method", "csharp",
     'class W {\n  WebClient wc;\n  void Auth(string t) {\n    wc.Headers.Add("X-aws-ec2-metadata-token", t);\n  }\n'
     '  string F() {\n    return wc.DownloadString("http://169.254.169.254/latest/meta-data/");\n  }\n}\n', ["IMDS101"]),
    ("ruby-net-http", "ruby", "require 'net/http'\nputs Net::HTTP.get(URI('http://169.254.169.254/latest/meta-data/'))\n",
     ["IMDS101"]),
    ("ruby-open-uri-token", "ruby",
     "URI.open('http://169.254.169.254/latest/meta-data/', 'X-aws-ec2-metadata-token' => token).read\n", []),
    ("ruby-net-http-token", "ruby",
     "Net::HTTP.get(URI('http://169.254.169.254/latest/meta-data/'), 'X-aws-ec2-metadata-token' => token)\n", []),
    ("ruby-system-curl", "ruby", "system('curl -s http://169.254.169.254/latest/meta-data/')\n", ["IMDS101"]),
    ("ruby-ecs", "ruby", "Net::HTTP.get(URI(\"http://169.254.170.2#{ENV['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI']}\"))\n", []),
]


@pytest.mark.parametrize("kind,code,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_detection(kind, code, expected):
    assert codes(lint(code, kind)) == expected


@pytest.mark.parametrize("kind,code,version", [
    ("java", "class A { String f() { return EC2MetadataUtils.getInstanceId(); } }\n", "1.11.678"),
    ("csharp", "class W { string F() => Amazon.Util.EC2InstanceMetadata.InstanceId; }\n", "3.3.634.1"),
])
def test_sdk_metadata_clients_are_facts(kind, code, version):
    from imds_lint.frontends.sourcecode_clients import analyze_language

    assert lint(code, kind) == []
    [analysis] = analyze_language(Document(kind, code), None, kind)
    facts = analysis.facts.get(SDK_CLIENT, [])
    if kind == "csharp":
        # A property read is no call: the fact comes only from method calls.
        assert all(version in f.token_aware_from for f in facts)
    else:
        assert [f.token_aware_from.split()[-1] for f in facts] == [version]


def test_ruby_backticks_are_fixed_through_the_shell_front_end():
    code = "id = `curl -s http://169.254.169.254/latest/meta-data/instance-id`\n"
    fixed = fix(code, "ruby")
    assert "X-aws-ec2-metadata-token: $IMDS_TOKEN" in fixed and parses(fixed, "ruby")
    assert lint(fixed, "ruby") == []


@pytest.mark.parametrize("path,language,count", [
    ("java/InstanceInfo.java", "java", 2),
    ("csharp/MetadataWorker.cs", "csharp", 2),
    ("ruby/Rakefile", "ruby", 2),
])
def test_display_only_suggestions_parse(path, language, count):
    text = (FIXTURES / path).read_text()
    fixed, findings = suggested(text, language)
    display = [f for f in findings if f.fix is not None and not f.fixable]
    assert len(display) == count
    assert fixed != text and parses(fixed, language)
    assert fix(text, language) == fix(fix(text, language), language)


def test_apache_fluent_requests_chained_or_in_a_variable():
    head = "import org.apache.hc.client5.http.fluent.Request;\nclass A {\n"
    url = 'static final String U = "http://169.254.169.254/latest/meta-data/instance-id";\n'
    chained = head + url + "String f() { return Request.get(U).execute().returnContent().asString(); }\n}\n"
    stored = head + url + "String f() { Request r = Request.Get(U);\n return r.execute().returnContent().asString(); }\n}\n"
    with_token = head + url + ('String f(String t) { return Request.get(U).addHeader("X-aws-ec2-metadata-token", t)'
                               ".execute().returnContent().asString(); }\n}\n")
    assert [f.start.line for f in lint(chained, "java")] == [4]
    assert [f.start.line for f in lint(stored, "java")] == [5]
    assert lint(with_token, "java") == []
    # Without the fluent facade's import, Request is some other class.
    assert lint(chained.replace(head, "class A {\n"), "java") == []


JAVA = '''import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/** Reads this instance's facts; neither method declares IOException for the token's sake. */
public class Facts {
    private final HttpClient http = HttpClient.newHttpClient();

    public String instanceId() throws Exception {
        HttpURLConnection conn = (HttpURLConnection) new URL("http://169.254.169.254/latest/meta-data/instance-id").openConnection();
        conn.setConnectTimeout(1000);
        try (InputStream in = conn.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    public String region() throws InterruptedException, java.io.IOException {
        HttpRequest get = HttpRequest.newBuilder()
                .uri(URI.create("http://169.254.169.254/latest/meta-data/placement/region"))
                .build();
        return http.send(get, HttpResponse.BodyHandlers.ofString()).body();
    }
}
'''


def test_java_suggestion_caches_one_token_never_throws_and_compiles(tmp_path):
    fixed, findings = suggested(JAVA, "java")
    assert len(findings) == 2 and parses(fixed, "java")
    # One helper for the class, synchronized and cached until shortly before the TTL ends; a failed fetch
    # returns "" instead of throwing, so callers need no new throws clause.
    assert fixed.count("private static synchronized String imdsToken() {") == 1
    assert "imdsTokenExpires = System.currentTimeMillis() + 21540_000L;" in fixed
    assert "} catch (java.io.IOException e) {" in fixed and "throws java.io.IOException {" not in fixed
    assert 'conn.setRequestProperty("X-aws-ec2-metadata-token", imdsToken());' in fixed
    javac = shutil.which("javac")
    if javac:
        (tmp_path / "Facts.java").write_text(fixed)
        done = subprocess.run([javac, "-d", str(tmp_path), str(tmp_path / "Facts.java")], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr


def test_csharp_and_ruby_suggestions_cache_one_token_under_a_lock():
    cs, _ = suggested((FIXTURES / "csharp/MetadataWorker.cs").read_text(), "csharp")
    assert cs.count("private static string ImdsToken()") == 1 and "lock (ImdsTokenLock)" in cs
    assert "catch (System.Net.Http.HttpRequestException)" in cs and parses(cs, "csharp")
    rb, _ = suggested((FIXTURES / "ruby/Rakefile").read_text(), "ruby")
    # After the requires (the helper uses Net::HTTP), cached under a Mutex, rescuing instead of raising.
    assert rb.startswith("require 'net/http'\nrequire 'open-uri'\n\nIMDS_TOKEN_2_CACHE = { token: '', expires: 0.0, ")
    assert "IMDS_TOKEN_2_CACHE[:lock].synchronize do" in rb and "rescue StandardError" in rb
    ruby = shutil.which("ruby")
    if ruby:
        done = subprocess.run([ruby, "-c", "-e", rb], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "Syntax OK" in done.stdout, done.stderr
