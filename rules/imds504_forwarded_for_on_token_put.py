from __future__ import annotations

from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid


class ForwardedForOnTokenPut(Rule):
    """
    ## What it does
    Flags a token PUT that sends an `X-Forwarded-For` header.

    ## Why it breaks under IMDSv2-only
    IMDS refuses token requests that carry `X-Forwarded-For`: it is how it tells a
    request relayed by a proxy (the SSRF case IMDSv2 exists to stop) from a local
    one. The PUT gets no token and the script's metadata reads then get 401.

    ## Example
    ```shell
    curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60" -H "X-Forwarded-For: 10.0.0.1"
    ```

    ## Use instead
    ```shell
    curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60"
    ```

    ## Fix safety
    Unsafe: removing the header is right for IMDS, but a proxy in the path may be
    the real problem.

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html
    """

    code = "IMDS504"
    name = "forwarded-for-on-token-put"
    category = Category.PROTOCOL
    severity = Severity.ERROR
    summary = "X-Forwarded-For header on the token PUT"
    fix_title = "Remove the X-Forwarded-For header"

    valid = [Valid("shell", 'curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60"\n')]
    invalid = [
        Invalid(
            "shell",
            'curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60" -H "X-Forwarded-For: 10.0.0.1"\n',
            fixed='curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60"\n',
            unsafe_fixes=True,
        ),
    ]

    def check_request(self, request, ctx):
        header = request.header("x-forwarded-for")
        if header is None or not request.is_token_fetch:
            return
        fix = ctx.fixer.remove_header(request, header)
        ctx.report_request(self, request,
                   "the token PUT sends X-Forwarded-For, and IMDS refuses token requests that look proxied", fix)
