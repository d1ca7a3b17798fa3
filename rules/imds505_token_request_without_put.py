from __future__ import annotations

from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid


class TokenRequestWithoutPut(Rule):
    """
    ## What it does
    Flags a request that sends the TTL header (so it means to fetch a token) but
    not with the `PUT` method: typically curl without `-X PUT`.

    ## Why it breaks under IMDSv2-only
    Without `-X PUT` curl sends a `GET`, which IMDS answers with `405`. The token
    variable ends up empty and every request that uses it gets 401.

    ## Example
    ```shell
    TOKEN=$(curl -s http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
    ```

    ## Use instead
    ```shell
    TOKEN=$(curl -X PUT -s http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
    ```

    ## Fix safety
    Safe: `-X PUT` (or wget's `--method=PUT`) is added, or an explicit other method
    is replaced.

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html
    """

    code = "IMDS505"
    name = "token-request-without-put"
    category = Category.PROTOCOL
    severity = Severity.ERROR
    summary = "Token request not sent as PUT"
    fix_title = "Send the token request as PUT"

    valid = [Valid("shell", 'curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60"\n')]
    invalid = [
        Invalid(
            "shell",
            'TOKEN=$(curl -s http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")\n',
            fixed='TOKEN=$(curl -X PUT -s http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")\n',
        ),
        Invalid(
            "shell",
            'curl -X POST http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60"\n',
            fixed='curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60"\n',
        ),
    ]

    def check_request(self, request, ctx):
        if request.ttl_header is None or request.method == "PUT" or not request.is_token_fetch:
            return  # a GET of meta-data that carries a stale TTL header is a data request, not a token request
        fix = ctx.fixer.add_put_method(request)
        ctx.report_request(self, request,
                   f"{request.client} sends the token request as {request.method or 'GET'}; "
                   "IMDS answers 405 and issues a token only for PUT", fix)
