from __future__ import annotations

from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid


class GetOnTokenPath(Rule):
    """
    ## What it does
    Flags a request to the token path that is neither a PUT nor carries the TTL
    header: usually a token fetch written as if it were a metadata read.

    ## Why it breaks under IMDSv2-only
    IMDS only accepts `PUT` on `/latest/api/token`; a `GET` gets `405 Method Not
    Allowed`. The variable meant to hold the token holds nothing (or an error
    page), and the requests that send it get 401.

    ## Example
    ```shell
    TOKEN=$(curl -s http://169.254.169.254/latest/api/token)
    ```

    ## Use instead
    ```shell
    TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
    ```

    ## Fix safety
    No automatic fix: both the method and the TTL are missing, and the TTL is the
    author's choice. The message gives the recipe.

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html
    """

    code = "IMDS502"
    name = "get-on-token-path"
    category = Category.PROTOCOL
    severity = Severity.ERROR
    summary = "GET on /latest/api/token (IMDS answers 405)"

    valid = [Valid("shell", 'TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")\n')]
    invalid = [
        Invalid("shell", "TOKEN=$(curl -s http://169.254.169.254/latest/api/token)\n"),
        Invalid("shell", "TOKEN=$(wget -qO- http://169.254.169.254/latest/api/token)\n"),
    ]

    def check_request(self, request, ctx):
        if not request.is_token_fetch or request.ttl_header is not None or request.method == "PUT":
            return
        ctx.report_request(self, request,
                   f"{request.client} sends {request.method or 'GET'} to the token path, which IMDS answers with 405; "
                   "use PUT with the header X-aws-ec2-metadata-token-ttl-seconds: 21600")
