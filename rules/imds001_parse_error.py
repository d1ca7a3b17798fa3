from __future__ import annotations

from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid


class ParseError(Rule):
    """
    ## What it does
    Reports a file (or an embedded script) that touches IMDS but does not parse
    in its language. Its requests were found by the error-tolerant parser and,
    in the broken region, by a text scan, so some may be missed and none there
    can be fixed automatically.

    ## Why it breaks under IMDSv2-only
    It does not by itself; but a script that does not parse cannot be checked
    fully, and a fix cannot be applied to it safely.

    ## Example
    ```shell
    if [ -f /etc/os-release ]; then
      curl -s http://169.254.169.254/latest/meta-data/instance-id
    ```

    ## Use instead
    ```shell
    if [ -f /etc/os-release ]; then
      curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id
    fi
    ```

    ## Fix safety
    No fix: repair the syntax first.

    ## References
    - https://www.shellcheck.net/wiki/SC1009
    """

    code = "IMDS001"
    name = "parse-error"
    category = Category.ENGINE
    severity = Severity.WARNING
    summary = "File touches IMDS but does not parse"
    engine = True

    valid = [Valid("shell", 'if [ -f /etc/os-release ]; then\n  curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id\nfi\n')]
    invalid = [Invalid("shell", "if [ -f /etc/os-release ]; then\n  curl -s http://169.254.169.254/latest/meta-data/instance-id\n")]
