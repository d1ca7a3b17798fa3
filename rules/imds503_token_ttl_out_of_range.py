from __future__ import annotations

from imds_lint.fixers import replace_header_value
from imds_lint.model import MAX_TOKEN_TTL, Applicability, Category, Severity
from imds_lint.rule import Invalid, Rule, Valid


class TokenTtlOutOfRange(Rule):
    """
    ## What it does
    Flags a token request whose `X-aws-ec2-metadata-token-ttl-seconds` value is a
    literal outside 1..21600 or not a whole number.

    ## Why it breaks under IMDSv2-only
    IMDS rejects such a PUT with `400 Bad Request`, so no token is issued and the
    requests that follow go out without one.

    ## Example
    ```shell
    curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 86400"
    ```

    ## Use instead
    ```shell
    curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 21600"
    ```

    ## Fix safety
    Unsafe: the value is clamped into range, which changes how long the token
    lives; check that a script running longer than six hours refreshes it.

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html
    """

    code = "IMDS503"
    name = "token-ttl-out-of-range"
    category = Category.PROTOCOL
    severity = Severity.ERROR
    summary = "Token TTL outside 1..21600 seconds"
    fix_title = "Clamp the TTL into 1..21600"

    valid = [
        Valid("shell", 'curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 1"\n'),
        Valid("shell", 'curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: $TTL"\n'),
    ]
    invalid = [
        Invalid(
            "shell",
            'curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 86400"\n',
            fixed='curl -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 21600"\n',
            unsafe_fixes=True,
        ),
        Invalid("shell", "curl -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 0'\n"),
    ]

    def check_request(self, request, ctx):
        header = request.ttl_header
        if header is None or header.value is None or "$" in header.value or "*" in header.value:
            return
        value = header.value.strip().strip("'\"")
        try:
            seconds = int(value)
        except ValueError:
            ctx.report_request(self, request, f"TTL '{value}' is not a number of seconds; IMDS answers 400 and issues no token")
            return
        if 1 <= seconds <= MAX_TOKEN_TTL:
            return
        clamped = str(min(max(seconds, 1), MAX_TOKEN_TTL))
        fix = replace_header_value(header, clamped, Applicability.UNSAFE)
        ctx.report_request(self, request,
                   f"token TTL {seconds} is outside 1..{MAX_TOKEN_TTL} seconds; IMDS answers 400 and issues no token", fix)
