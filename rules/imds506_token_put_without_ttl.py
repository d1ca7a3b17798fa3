from __future__ import annotations

from imds_lint.model import TOKEN_PATH, Category, Severity
from imds_lint.protocol import TTL_HEADER_NAME
from imds_lint.rule import Invalid, Rule, Valid


class TokenPutWithoutTtl(Rule):
    """
    ## What it does
    Flags a `PUT` to `/latest/api/token` that does not send the
    `X-aws-ec2-metadata-token-ttl-seconds` header.

    ## Why it breaks under IMDSv2-only
    The TTL header is required: IMDS answers a PUT without it with `400 Bad
    Request`, so there is no token for the requests that follow.

    ## Example
    ```shell
    TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token)
    ```

    ## Use instead
    ```shell
    TOKEN=$(curl -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" -s -X PUT http://169.254.169.254/latest/api/token)
    ```

    ## Fix safety
    Safe: the header is added with the configured TTL (21600 seconds unless
    `token-ttl` says otherwise).

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html
    """

    code = "IMDS506"
    name = "token-put-without-ttl"
    category = Category.PROTOCOL
    severity = Severity.ERROR
    summary = "Token PUT without the TTL header"
    fix_title = "Add the TTL header"

    valid = [Valid("shell", 'curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60"\n')]
    invalid = [
        Invalid(
            "shell",
            "TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token)\n",
            fixed='TOKEN=$(curl -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" -s -X PUT http://169.254.169.254/latest/api/token)\n',
        ),
    ]

    def check_request(self, request, ctx):
        if request.method != "PUT" or request.ttl_header is not None or request.headers_unknown:
            return
        if request.path is None or request.path.rstrip("/") != TOKEN_PATH:
            return
        fix = ctx.fixer.add_header(request, TTL_HEADER_NAME, str(ctx.token_ttl))
        ctx.report_request(self, request,
                   "token PUT without the X-aws-ec2-metadata-token-ttl-seconds header; IMDS answers 400 and issues no token", fix)
