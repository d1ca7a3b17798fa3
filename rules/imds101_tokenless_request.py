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
    IMDS_TOKEN="$(curl -sS -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")"
    curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -s http://169.254.169.254/latest/meta-data/instance-id
    ```

    ## Fix safety
    Safe for curl and HTTPie: one token is fetched before the first metadata
    request of the script (or an existing token variable is reused) and the header
    is added to each request. With wget the token fetch uses `--method=PUT`, which
    BusyBox wget lacks, so that fix is unsafe. A misspelled token header is renamed.

    In Python the header goes into the call that sends the request (merged into
    its `headers=` dict) and the token comes from a small helper inserted once
    after the module's imports, written with the same library (async code gets an
    async helper), or from a token helper the module already has. Safe for a
    module-level `requests`/`httpx`/`urlopen` call whose headers are absent or a
    dict literal; unsafe when it goes through a shared session or connection, a
    headers variable, a `Request` object built in another statement, async code or
    `subprocess`. Without a fix the message gives the manual recipe.

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
            fixed='IMDS_TOKEN="$(curl -sS -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")"\n'
                  'curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -s http://169.254.169.254/latest/meta-data/instance-id\n',
        ),
        Invalid(
            "shell",
            'IMDS=http://169.254.169.254\nREGION=$(curl -fsS "${IMDS}/latest/meta-data/placement/region")\n',
            fixed='IMDS=http://169.254.169.254\n'
                  'IMDS_TOKEN="$(curl -sS -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")"\n'
                  'REGION=$(curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -fsS "${IMDS}/latest/meta-data/placement/region")\n',
        ),
        Invalid(
            "shell",
            "bash -c 'curl -s http://169.254.169.254/latest/user-data'\n",
            fixed='bash -c \'IMDS_TOKEN="$(curl -sS -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")"; '
                  'curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -s http://169.254.169.254/latest/user-data\'\n',
        ),
        Invalid(
            "shell",
            'curl -s -H "X-aws-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/ami-id\n',
            fixed='curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/ami-id\n',
        ),
        Invalid("shell", "http GET instance-data/latest/meta-data/local-ipv4\nwget -qO- http://[fd00:ec2::254]/latest/meta-data/\n", count=2),
        Invalid(
            "python",
            'import requests\n\n'
            'region = requests.get("http://169.254.169.254/latest/meta-data/placement/region", timeout=2).text\n',
            fixed='import requests\n\n\n'
                  'def _imds_token():\n'
                  '    """Fetch an IMDSv2 session token (added by imds-lint)."""\n'
                  '    response = requests.put(\n'
                  '        "http://169.254.169.254/latest/api/token",\n'
                  '        headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"},\n'
                  '        timeout=2,\n'
                  '    )\n'
                  '    return response.text\n\n\n'
                  'region = requests.get("http://169.254.169.254/latest/meta-data/placement/region", timeout=2, '
                  'headers={"X-aws-ec2-metadata-token": _imds_token()}).text\n',
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
