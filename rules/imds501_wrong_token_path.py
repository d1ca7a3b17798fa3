from __future__ import annotations

from imds_lint.fixers import replace_path
from imds_lint.model import TOKEN_PATH, Applicability, Category, Severity
from imds_lint.rule import Invalid, Rule, Valid


class WrongTokenPath(Rule):
    """
    ## What it does
    Flags a token request (a PUT, or a request carrying the TTL header) sent to a
    path other than exactly `/latest/api/token`.

    ## Why it breaks under IMDSv2-only
    IMDS hands out tokens only at `/latest/api/token`. A PUT to
    `/latest/meta-data/api/token`, to a dated version path or with a trailing
    slash gets `403 Forbidden` or `404`, so no token, and every request after it
    goes out tokenless and gets 401.

    ## Example
    ```shell
    TOKEN=$(curl -sX PUT http://169.254.169.254/latest/meta-data/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
    ```

    ## Use instead
    ```shell
    TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
    ```

    ## Fix safety
    Safe: only the path is rewritten, where the source spells it out.

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html
    """

    code = "IMDS501"
    name = "wrong-token-path"
    category = Category.PROTOCOL
    severity = Severity.ERROR
    summary = "Token request sent to a path other than /latest/api/token"
    fix_title = "Use /latest/api/token"

    valid = [Valid("shell", 'curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60"\n')]
    invalid = [
        Invalid(
            "shell",
            'TOKEN=$(curl -sX PUT http://169.254.169.254/latest/meta-data/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")\n',
            fixed='TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")\n',
        ),
        Invalid(
            "shell",
            "curl -X PUT 'http://169.254.169.254/latest/api/token/' -H 'X-aws-ec2-metadata-token-ttl-seconds: 60'\n",
            fixed="curl -X PUT 'http://169.254.169.254/latest/api/token' -H 'X-aws-ec2-metadata-token-ttl-seconds: 60'\n",
        ),
        Invalid(
            "shell",
            'curl -X PUT http://169.254.169.254/2021-07-15/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60"\n',
            fixed='curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60"\n',
        ),
    ]

    def check_request(self, request, ctx):
        if not request.is_token_fetch or request.path in (TOKEN_PATH, None):
            return
        if request.method != "PUT" and request.ttl_header is None:
            return  # a plain GET of a token-like path is IMDS502's business
        fix = replace_path(request, TOKEN_PATH, Applicability.SAFE)
        ctx.report_request(self, request,
                   f"token request goes to {request.path}; IMDS issues tokens only at {TOKEN_PATH} "
                   "and answers this with 403/404, leaving the script without a token", fix)
