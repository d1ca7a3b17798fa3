from __future__ import annotations

from imds_lint.fixers import rename_header
from imds_lint.model import Applicability, Category, Precision, Severity
from imds_lint.protocol import TOKEN_HEADER_NAME
from imds_lint.rule import Invalid, Rule, Valid

AWS_DOC = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html"


class TokenlessRequest(Rule):
    """
    ## What it does
    Flags an HTTP request to the instance metadata service that does not send the
    `X-aws-ec2-metadata-token` header (an IMDSv1 request), at the line that sends it.

    ## Why it breaks under IMDSv2-only
    Once an instance sets `http_tokens = required`, IMDS answers every request
    without a token with `401 Unauthorized`. The script gets no instance ID, no
    region and no role credentials, and whatever it does next fails.

    ## Example
    ```shell
    curl -s http://169.254.169.254/latest/meta-data/instance-id
    ```

    ## Use instead
    ```shell
    : "${IMDS_TOKEN=$(curl -fs -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")}"
    curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -s http://169.254.169.254/latest/meta-data/instance-id
    ```

    ## Fix safety
    Safe for curl and HTTPie, following the token-first plan (`fixers/token_plan.py`):
    a guarded fetch, `: "${IMDS_TOKEN=$(curl -fs ... -X PUT .../latest/api/token ...)}"`,
    goes in the scope that runs the request (inside its function, loop, branch or
    `&&` chain, never at `source` time), so it runs once per process and only
    where a request does; it carries the request's own `--max-time` and
    `--connect-timeout`, and it never fails the script: where IMDS does not
    answer the variable stays empty, curl drops the empty header and the request
    behaves as it did. A variable the script already holds is reused only when
    it provably holds the body of a PUT to the token path. Unsafe, with the
    reason in the fix title: a wrapper that also serves other hosts (they would
    get the token), a request that runs only after an `elif` condition failed,
    and wget's `--method=PUT` (BusyBox lacks it) where the script has no curl.
    A misspelled token header is renamed.

    In Python the header goes into the call that sends the request (merged into
    its `headers=` dict) and the token comes from a small helper inserted once
    after the module's imports, written with the same library (async code gets an
    async helper), or from a token helper the module already has. The helper
    caches the token until its TTL ends (one PUT per process, under a lock),
    takes the call's own `timeout`, and returns no token instead of raising
    where IMDS does not answer (requests then drops the header). Safe for a
    module-level `requests`/`httpx`/`urlopen` call whose headers are absent or a
    dict literal; unsafe when it goes through a shared session or connection, a
    headers variable, a `Request` object built in another statement, async code or
    `subprocess`. Without a fix the message gives the manual recipe.

    In PowerShell the fetch is a guarded statement in the block that runs the
    request (function, script block, loop body, `try`), filling
    `$script:IMDS_TOKEN` once with the request's own `-TimeoutSec`, inside
    `try { ... -ErrorAction Stop } catch { ... = '' }` so it never stops the
    script. These fixes are unsafe: no PowerShell runtime has run them in the
    three worlds here, and the title says so.

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-transition-to-version-2.html
    """

    code = "IMDS101"
    name = "tokenless-request"
    category = Category.IMDSV1_CALL
    severity = Severity.ERROR
    summary = "Request to IMDS without an IMDSv2 session token"
    fix_title = "Fetch a token first and send it with the request"

    valid = [
        Valid("shell", 'TOKEN="$(curl -sS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")"\n'
                       'curl -sS -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id\n'),
        Valid("shell", "curl -s http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI\n"),
        Valid("shell", 'curl -s -H "Metadata: true" "http://169.254.169.254/metadata/instance?api-version=2021-02-01"\n'),
        Valid("shell", "iptables -A OUTPUT -d 169.254.169.254 -j DROP\nexport NO_PROXY=169.254.169.254,localhost\n"),
        Valid("shell", 'echo "curl http://169.254.169.254/latest/meta-data/"  # docs only\n'),
        Valid("shell", "wget -q -O - --header 'x-aws-ec2-metadata-token: '$T http://169.254.169.254/latest/meta-data/ami-id\n"),
        Valid("python", 'import requests\n\n'
                        'TOKEN = requests.put("http://169.254.169.254/latest/api/token",\n'
                        '                     headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"}, timeout=2).text\n'
                        'region = requests.get("http://169.254.169.254/latest/meta-data/placement/region",\n'
                        '                      headers={"X-aws-ec2-metadata-token": TOKEN}, timeout=2).text\n'),
        Valid("python", 'import requests\n\n\nclass Metadata:\n    def __init__(self, token):\n'
                        '        self.session = requests.Session()\n'
                        '        self.session.headers.update({"X-aws-ec2-metadata-token": token})\n\n'
                        '    def get(self, path):\n'
                        '        return self.session.get("http://169.254.169.254/latest/meta-data/" + path).text\n'),
        Valid("python", 'import requests, os\n'
                        'creds = requests.get("http://169.254.170.2" + os.environ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]).json()\n'),
        Valid("python", 'BLOCKED_HOSTS = {"169.254.169.254"}\nlog.info("not calling http://169.254.169.254/latest/meta-data/")\n'),
    ]
    invalid = [
        Invalid(
            "shell",
            "curl -s http://169.254.169.254/latest/meta-data/instance-id\n",
            fixed=': "${IMDS_TOKEN=$(curl -fs -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")}"\n'
                  'curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -s http://169.254.169.254/latest/meta-data/instance-id\n',
        ),
        Invalid(
            "shell",
            'IMDS=http://169.254.169.254\nREGION=$(curl -fsS "${IMDS}/latest/meta-data/placement/region")\n',
            fixed='IMDS=http://169.254.169.254\n'
                  ': "${IMDS_TOKEN=$(curl -fs -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")}"\n'
                  'REGION=$(curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -fsS "${IMDS}/latest/meta-data/placement/region")\n',
        ),
        Invalid(
            "shell",
            "bash -c 'curl -s http://169.254.169.254/latest/user-data'\n",
            fixed='bash -c \': "${IMDS_TOKEN=$(curl -fs -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")}"; '
                  'curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -s http://169.254.169.254/latest/user-data\'\n',
        ),
        Invalid(
            "shell",
            'curl -s -H "X-aws-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/ami-id\n',
            fixed='curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/ami-id\n',
        ),
        Invalid("shell", "http GET instance-data/latest/meta-data/local-ipv4\nwget -qO- http://[fd00:ec2::254]/latest/meta-data/\n", count=2),
        Invalid(
            "powershell",
            "function Get-InstanceId {\n"
            "    Invoke-RestMethod -Uri http://169.254.169.254/latest/meta-data/instance-id -TimeoutSec 2\n"
            "}\n",
            fixed=("function Get-InstanceId {\n"
                   "    if ($null -eq (Get-Variable -Name IMDS_TOKEN -Scope Script -ValueOnly -ErrorAction Ignore)) {\n"
                   "        try {\n"
                   "            $script:IMDS_TOKEN = Invoke-RestMethod -Method PUT -Uri http://169.254.169.254/latest/api/token"
                   " -TimeoutSec 2 -ErrorAction Stop -Headers @{\n"
                   "                'X-aws-ec2-metadata-token-ttl-seconds' = '21600'\n"
                   "            }\n"
                   "        } catch {\n"
                   "            $script:IMDS_TOKEN = ''\n"
                   "        }\n"
                   "    }\n"
                   "    Invoke-RestMethod -Headers @{'X-aws-ec2-metadata-token' = $script:IMDS_TOKEN} "
                   "-Uri http://169.254.169.254/latest/meta-data/instance-id -TimeoutSec 2\n"
                   "}\n"),
            unsafe_fixes=True,
        ),
        Invalid(
            "python",
            'import requests\n\n'
            'region = requests.get("http://169.254.169.254/latest/meta-data/placement/region", timeout=2).text\n',
            fixed=('import requests\n'
                   '\n'
                   '\n'
                   '_imds_token_cache = {}\n'
                   '\n'
                   '\n'
                   'def _imds_token(timeout=2):\n'
                   '    """The IMDSv2 session token, fetched once and reused until its TTL ends (added by imds-lint).\n'
                   '\n'
                   '    None where IMDS does not answer: the request then goes out as it did without a token.\n'
                   '    """\n'
                   '    import threading\n'
                   '    import time\n'
                   '\n'
                   '    with _imds_token_cache.setdefault("lock", threading.Lock()):\n'
                   '        if _imds_token_cache.get("expires", 0) <= time.monotonic():\n'
                   '            try:\n'
                   '                response = requests.put(\n'
                   '                    "http://169.254.169.254/latest/api/token",\n'
                   '                    headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"},\n'
                   '                    timeout=timeout,\n'
                   '                )\n'
                   '                token = response.text if response.status_code == 200 else None\n'
                   '            except requests.RequestException:\n'
                   '                token = None\n'
                   '            lifetime = 21600 - 60 if token else 60\n'
                   '            _imds_token_cache.update(token=token, expires=time.monotonic() + max(1, lifetime))\n'
                   '        return _imds_token_cache["token"]\n'
                   '\n'
                   '\n'
                   'region = requests.get("http://169.254.169.254/latest/meta-data/placement/region", timeout=2, headers={"X-aws-ec2-metadata-token": _imds_token(2)}).text\n'),
        ),
        Invalid(
            "python",
            'from urllib.request import urlopen\n\nBASE = "http://169.254.169.254/latest"\n\n\n'
            'def meta(path):\n    return urlopen(f"{BASE}/meta-data/{path}", timeout=2).read().decode()\n\n\n'
            'REGION = meta("placement/region")\n',
        ),
        Invalid(
            "python",
            'import subprocess\n'
            'ami = subprocess.check_output(["curl", "-s", "http://169.254.169.254/latest/meta-data/ami-id"])\n'
            'subprocess.run("wget -qO- http://169.254.169.254/latest/user-data", shell=True)\n',
            count=2,
        ),
    ]

    def check_request(self, request, ctx):
        if request.has_token or request.wrapper or request.is_token_fetch or request.headers_unknown:
            return
        what = f"{request.method or 'GET'} {request.url or request.endpoint}"
        message = f"{request.client} sends {what} without an IMDSv2 token; it gets 401 once the instance requires tokens"
        near_miss = request.token_header_near_miss
        fix = None
        if near_miss is not None:
            message += f" ('{near_miss.name}' is not the token header 'X-aws-ec2-metadata-token')"
            fix = rename_header(near_miss, TOKEN_HEADER_NAME, Applicability.SAFE)
        elif request.precision is Precision.PARSED:
            fix = ctx.fixer.add_token(request, ctx.analysis, ctx.token_ttl)
        if fix is None and near_miss is None:
            message += "; fetch a token with PUT /latest/api/token and send it as X-aws-ec2-metadata-token"
        elif fix is not None and fix.applicability is Applicability.DISPLAY_ONLY:
            # A suggestion only (shown by --diff): the message carries the recipe in the language.
            message += f"; {fix.title}"
        if request.precision is Precision.TEXT:
            message += " (found by text scan)"
        ctx.report_request(self, request, message, fix)
