"""The Python front-end: what it finds, what it leaves alone, and that it never crashes."""

from __future__ import annotations

import textwrap

import pytest

from imds_lint.frontends import python as py
from tests.helpers import codes, fix, lint, lint_notes


def _lines(code: str, rule: str = "IMDS101") -> list[int]:
    return sorted(f.start.line for f in lint(textwrap.dedent(code), "python") if f.code == rule)


FOUND = {
    "requests-alias": ("""
        import requests as r
        r.get("http://169.254.169.254/latest/meta-data/instance-id", timeout=2)
        """, [3]),
    "requests-request": ("""
        import requests
        requests.request("GET", "http://169.254.169.254/latest/meta-data/ami-id")
        """, [3]),
    "from-import-urlopen": ("""
        from urllib.request import urlopen
        urlopen("http://169.254.169.254/latest/meta-data/local-ipv4").read()
        """, [3]),
    "urllib-request-object": ("""
        from urllib.request import Request, urlopen
        req = Request("http://169.254.169.254/latest/user-data", method="GET")
        req.add_header("Accept", "text/plain")
        body = urlopen(req, timeout=2).read()
        """, [5]),
    "session-attribute": ("""
        import requests
        class Meta:
            def __init__(self):
                self.session = requests.Session()
                self.session.headers["User-Agent"] = "x"
            def region(self):
                return self.session.get("http://169.254.169.254/latest/meta-data/placement/region").text
        """, [8]),
    "urllib3-pool": ("""
        import urllib3
        http = urllib3.PoolManager()
        r = http.request("GET", "http://169.254.169.254/latest/meta-data/hostname", headers={"Accept": "*/*"})
        """, [4]),
    "http-client": ("""
        import http.client
        HOST = "169.254.169.254"
        conn = http.client.HTTPConnection(HOST, 80, timeout=2)
        conn.request("GET", "/latest/meta-data/instance-type")
        """, [5]),
    "httpx-client-headers": ("""
        import httpx
        with httpx.Client(headers={"Accept": "text/plain"}) as client:
            client.get("http://169.254.169.254/latest/meta-data/mac")
        """, [4]),
    "httpx-async": ("""
        import httpx
        async def zone():
            async with httpx.AsyncClient() as client:
                return (await client.get("http://169.254.169.254/latest/meta-data/placement/availability-zone")).text
        """, [5]),
    "aiohttp": ("""
        import aiohttp
        async def ip():
            async with aiohttp.ClientSession() as session:
                async with session.get("http://169.254.169.254/latest/meta-data/public-ipv4") as resp:
                    return await resp.text()
        """, [5]),
    "subprocess-argv": ("""
        import subprocess
        out = subprocess.check_output(["curl", "-s", "http://169.254.169.254/latest/meta-data/instance-id"])
        """, [3]),
    "subprocess-shell-string": ("""
        import subprocess
        subprocess.run("wget -qO- http://169.254.169.254/latest/meta-data/ami-id", shell=True)
        """, [3]),
    "subprocess-shlex": ("""
        import shlex, subprocess
        subprocess.run(shlex.split("curl -s http://169.254.169.254/latest/meta-data/ami-id"))
        """, [3]),
    "os-system": ("""
        import os
        os.system("curl -s http://169.254.169.254/latest/user-data > /tmp/ud")
        """, [3]),
    "f-string-class-constant": ("""
        import requests
        class Client:
            HOST = "169.254.169.254"
            def get(self, what):
                return requests.get(f"http://{self.HOST}/latest/meta-data/{what}").text
        """, [6]),
    "percent-format": ("""
        import requests
        BASE = "http://%s/latest" % "169.254.169.254"
        requests.get("%s/meta-data/%s" % (BASE, "ami-id"))
        """, [4]),
    "dot-format": ("""
        import requests
        requests.get("http://{host}/latest/meta-data/{0}".format("ami-id", host="169.254.169.254"))
        """, [3]),
    "urljoin": ("""
        from urllib.parse import urljoin
        import requests
        BASE = "http://169.254.169.254/latest/"
        requests.get(urljoin(BASE, "meta-data/instance-id"))
        """, [5]),
    "os-path-join": ("""
        import os, requests
        requests.get(os.path.join("http://169.254.169.254/latest", "meta-data", "ami-id"))
        """, [3]),
    "default-argument": ("""
        import requests
        def get(url="http://169.254.169.254/latest/meta-data/instance-id"):
            return requests.get(url, timeout=1)
        """, [4]),
    "helper-called-with-path": ("""
        import requests
        IMDS = "http://169.254.169.254"
        def meta(path):
            return requests.get(IMDS + "/latest/meta-data/" + path, timeout=1).text
        REGION = meta("placement/region")
        ZONE = meta("placement/availability-zone")
        """, [5]),
    "helper-called-with-url": ("""
        import requests
        def fetch(url):
            return requests.get(url, timeout=1)
        fetch("http://169.254.169.254/latest/meta-data/instance-id")
        """, [4]),
    "env-default": ("""
        import os, requests
        URL = os.environ.get("IMDS_URL", "http://169.254.169.254/latest/meta-data/")
        requests.get(URL + "ami-id")
        """, [4]),
    "ipv6-endpoint": ("""
        import requests
        requests.get("http://[fd00:ec2::254]/latest/meta-data/ami-id")
        """, [3]),
    "headers-variable-without-token": ("""
        import requests
        HEADERS = {"Accept": "application/json"}
        requests.get("http://169.254.169.254/latest/dynamic/instance-identity/document", headers=HEADERS)
        """, [4]),
}


@pytest.mark.parametrize("code, lines", FOUND.values(), ids=FOUND.keys())
def test_tokenless_requests_are_found_at_the_sending_call(code, lines):
    assert _lines(code) == lines


TOKEN_FIRST = {
    "token-in-dict-literal": """
        import requests
        T = requests.put("http://169.254.169.254/latest/api/token",
                         headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"}, timeout=2).text
        requests.get("http://169.254.169.254/latest/meta-data/ami-id", headers={"X-aws-ec2-metadata-token": T})
        """,
    "token-attribute": """
        import requests
        class Meta:
            TOKEN_HEADER = "X-aws-ec2-metadata-token"
            def __init__(self):
                self.token = requests.put("http://169.254.169.254/latest/api/token",
                                          headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}).text
            def get(self, path):
                return requests.get("http://169.254.169.254/latest/meta-data/" + path,
                                    headers={self.TOKEN_HEADER: self.token}).text
        """,
    "token-global-dict-call": """
        import requests
        _TOKEN = None
        def refresh():
            global _TOKEN
            _TOKEN = requests.put("http://169.254.169.254/latest/api/token",
                                  headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"}).text
        def get(path):
            return requests.get("http://169.254.169.254/latest/meta-data/" + path,
                                headers=dict({"X-aws-ec2-metadata-token": _TOKEN}))
        """,
    "closure": """
        import urllib.request
        def make():
            req = urllib.request.Request("http://169.254.169.254/latest/api/token", method="PUT",
                                         headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
            token = urllib.request.urlopen(req).read().decode()
            def get(path):
                r = urllib.request.Request("http://169.254.169.254/latest/meta-data/" + path)
                r.add_header("X-aws-ec2-metadata-token", token)
                return urllib.request.urlopen(r).read()
            return get
        """,
    "session-default-headers": """
        import requests
        class Meta:
            def __init__(self):
                self.session = requests.Session()
                token = self.session.put("http://169.254.169.254/latest/api/token",
                                         headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}).text
                self.session.headers.update({"X-aws-ec2-metadata-token": token})
            def get(self, path):
                return self.session.get("http://169.254.169.254/latest/meta-data/" + path).text
        """,
    "headers-variable-then-set": """
        import requests
        def get(path, token):
            headers = {"Accept": "text/plain"}
            headers["X-aws-ec2-metadata-token"] = token
            return requests.get("http://169.254.169.254/latest/meta-data/" + path, headers=headers)
        """,
    "http-client-with-token": """
        import http.client
        def get(token):
            c = http.client.HTTPConnection("169.254.169.254")
            c.request("GET", "/latest/meta-data/ami-id", headers={"X-aws-ec2-metadata-token": token})
        """,
    "curl-argv-with-token": """
        import subprocess
        def get(token):
            return subprocess.run(["curl", "-s", "-H", f"X-aws-ec2-metadata-token: {token}",
                                   "http://169.254.169.254/latest/meta-data/ami-id"], capture_output=True)
        """,
}

NOT_IMDS = {
    "ecs-credentials": 'import requests, os\nrequests.get("http://169.254.170.2" + os.environ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"])\n',
    "eks-pod-identity": 'import requests\nrequests.get("http://169.254.170.23/v1/credentials")\n',
    "azure": 'import requests\nrequests.get("http://169.254.169.254/metadata/instance?api-version=2021-02-01", headers={"Metadata": "true"})\n',
    "gcp": 'import requests\nrequests.get("http://169.254.169.254/computeMetadata/v1/instance/id", headers={"Metadata-Flavor": "Google"})\n',
    "allow-list": 'BLOCKED = {"169.254.169.254", "fd00:ec2::254"}\ndef allowed(host):\n    return host not in BLOCKED\n',
    "log-message": 'import logging\nlogging.info("querying http://169.254.169.254/latest/meta-data/ now")\n',
    "docstring-and-comment": '"""Reads http://169.254.169.254/latest/meta-data/ via requests.get."""\n# requests.get("http://169.254.169.254/latest/meta-data/")\n',
    "responses-mock": textwrap.dedent("""
        import requests, responses
        @responses.activate
        def test_region():
            responses.add(responses.GET, "http://169.254.169.254/latest/meta-data/placement/region", body="eu-west-1")
            assert requests.get("http://169.254.169.254/latest/meta-data/placement/region").text == "eu-west-1"
        """),
    "requests-mock": textwrap.dedent("""
        import requests
        def test_region(requests_mock):
            import requests_mock as rm
            requests_mock.get("http://169.254.169.254/latest/meta-data/ami-id", text="ami")
            requests.get("http://169.254.169.254/latest/meta-data/ami-id")
        """),
    "unittest-mock": textwrap.dedent("""
        from unittest import mock
        import requests
        @mock.patch("requests.get")
        def test_it(get):
            requests.get("http://169.254.169.254/latest/meta-data/ami-id")
        """),
    "other-host": 'import requests\nrequests.get("http://169.254.169.2540/latest/meta-data/")\n',
    "unknown-session-from-elsewhere": 'def get(session):\n    return session.get("http://169.254.169.254/latest/meta-data/ami-id")\n',
}


@pytest.mark.parametrize("code", TOKEN_FIRST.values(), ids=TOKEN_FIRST.keys())
def test_token_first_code_is_recognised(code):
    assert lint(textwrap.dedent(code), "python") == []


@pytest.mark.parametrize("code", NOT_IMDS.values(), ids=NOT_IMDS.keys())
def test_not_imds_is_not_flagged(code):
    assert "IMDS101" not in codes(lint(code, "python"))


PROTOCOL = {
    "IMDS502": 'import requests\nrequests.get("http://169.254.169.254/latest/api/token")\n',
    "IMDS503": 'import requests\nrequests.put("http://169.254.169.254/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "86400"})\n',
    "IMDS504": 'import requests\nrequests.put("http://169.254.169.254/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "1.2.3.4"})\n',
    "IMDS505": 'import requests\nrequests.get("http://169.254.169.254/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})\n',
    "IMDS506": 'import requests\nrequests.put("http://169.254.169.254/latest/api/token", timeout=2)\n',
    "IMDS501": 'import requests\nrequests.put("http://169.254.169.254/latest/api/tokens", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})\n',
}


@pytest.mark.parametrize("rule, code", PROTOCOL.items(), ids=PROTOCOL.keys())
def test_protocol_rules_apply_to_python(rule, code):
    assert rule in codes(lint(code, "python"))


def test_protocol_fixes_for_python():
    assert fix(PROTOCOL["IMDS505"], "python") == PROTOCOL["IMDS505"].replace("requests.get", "requests.put")
    fixed = fix(PROTOCOL["IMDS506"], "python")
    assert '"X-aws-ec2-metadata-token-ttl-seconds": "21600"' in fixed and "IMDS506" not in codes(lint(fixed, "python"))
    fixed = fix(PROTOCOL["IMDS504"], "python", unsafe=True)
    assert "X-Forwarded-For" not in fixed and py.syntax_errors(fixed) == 0


@pytest.mark.parametrize("code", [
    'def broken(:\n    requests.get("http://169.254.169.254/latest/meta-data/ami-id")\n',
    # Python 2 that no respelling makes Python 3 (a tuple parameter) is text-scanned as before.
    'def f(a, (b, c)):\n    print a\nimport urllib2\nurllib2.urlopen("http://169.254.169.254/latest/meta-data/")\n',
])
def test_unparsable_python_falls_back_to_text_scanning(code):
    findings, notes = lint_notes(code, "python")
    assert "IMDS001" in codes(findings) and "IMDS101" in codes(findings)
    # CPython rejects it: a finding at the offending line, and no second, duplicate note.
    parse_error = next(f for f in findings if f.code == "IMDS001")
    assert parse_error.start.line == 1 and "syntax error" in parse_error.message and notes == []
    assert py.syntax_errors(code) == 1 and py.syntax_errors("x = 1\n") == 0


PYTHON2 = """import sys
import boto.utils, urllib2

def region():
    try:
        doc = boto.utils.get_instance_identity()
    except Exception, e:
        print >>sys.stderr, "no identity: %s" % e
        raise SystemExit, 1
    return doc['document']['region']

if __name__ == '__main__':
\tprint region(), `0777L`
\tprint urllib2.urlopen("http://169.254.169.254/latest/meta-data/instance-id").read()
"""


def test_python2_modules_keep_their_boto2_calls_and_requests_at_their_own_positions():
    findings, notes = lint_notes(PYTHON2, "python")
    by_code = {f.code: f for f in findings}
    assert set(by_code) == {"IMDS103", "IMDS101"}  # no parse-error finding: it is valid Python 2
    boto = by_code["IMDS103"]
    assert PYTHON2[boto.span.start:boto.span.end] == "boto.utils.get_instance_identity"
    assert (boto.start.line, boto.start.column) == (6, 15)
    request = by_code["IMDS101"]
    assert request.start.line == 14 and "found by text scan" not in request.message
    assert PYTHON2[request.span.start:request.span.end] == "urllib2.urlopen"
    assert any("Python 2" in n for n in notes)


def test_python2_modules_are_never_rewritten():
    assert fix(PYTHON2, "python", unsafe=True) == PYTHON2


def test_python2_respelling_maps_every_kept_character_back():
    from imds_lint.frontends.python.legacy import repair

    text, offsets = repair(PYTHON2)
    assert "except Exception as e:" in text and "print(" in text and "repr(0o777)" in text
    for needle in ("boto.utils.get_instance_identity()", "doc['document']['region']", "urllib2.urlopen("):
        inner = text.index(needle)
        outer = offsets.to_outer(inner)
        assert PYTHON2[outer:outer + len(needle)] == needle
    assert repair("x = 1\n") is None  # nothing to respell
    # The pure-Python tokenizer runs only when the line CPython rejects reads like Python 2.
    from imds_lint.frontends.python.legacy import looks_like_python2

    assert looks_like_python2(PYTHON2, 7) and looks_like_python2("print 'x'\n", 1)
    assert not looks_like_python2("def broken(:\n", 1) and not looks_like_python2("http://a/" + "a/" * 9, 1)
    assert repair("def broken(:\n    pass\n") is None


def test_offsets_are_characters_with_crlf_and_non_ascii():
    code = '# é ü\r\nimport requests\r\nX = "ü"; requests.get("http://169.254.169.254/latest/meta-data/ami-id")\r\n'
    [finding] = lint(code, "python")
    assert finding.start.line == 3
    assert code[finding.span.start:finding.span.end] == "requests.get"


def test_boto2_calls_are_facts_not_requests():
    from imds_lint.frontends import Analysis  # noqa: F401
    from imds_lint.model import Document

    doc = Document("python", "from boto.utils import get_instance_metadata\nmd = get_instance_metadata(timeout=1)\n")
    [analysis] = py.analyze(doc, None)
    assert analysis.requests == []
    assert [f.function for f in analysis.facts["boto2"]] == ["boto.utils.get_instance_metadata"]


def test_boto2_finding_is_never_fixed_and_carries_the_recipe():
    code = "from boto import utils\nREGION = utils.get_instance_identity()['document']['region']\n"
    [finding] = lint(code, "python")
    assert finding.code == "IMDS103" and finding.fix is None and finding.start.line == 2
    assert "boto3" in finding.message and "ec2-metadata package >= 2.2.0" in finding.message
    assert fix(code, "python", unsafe=True) == code


def test_boto2_files_pass_the_prefilter_without_an_endpoint_spelling():
    from imds_lint.prefilter import is_candidate

    assert is_candidate(b"import boto\nboto.connect_s3()\n", "python")
    assert is_candidate(b"from boto.utils import get_instance_metadata\n", "python")
    assert not is_candidate(b"import boto3\nboto3.client('s3')\n", "python")
