from __future__ import annotations

from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid


class UnusedSuppression(Rule):
    """
    ## What it does
    Reports an `imds-lint: ignore[...]` comment that suppresses nothing.

    ## Why it breaks under IMDSv2-only
    It does not; but a stale suppression hides the next real problem on that
    line, so it should go once the code it excused is fixed.

    ## Example
    ```shell
    curl -s -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 5' # imds-lint: ignore[IMDS101]
    ```

    ## Use instead
    ```shell
    curl -s -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 5'
    ```

    ## Fix safety
    No automatic fix yet: delete the comment.

    ## References
    - https://docs.astral.sh/ruff/rules/unused-noqa/
    """

    code = "IMDS002"
    name = "unused-suppression"
    category = Category.ENGINE
    severity = Severity.WARNING
    summary = "Suppression comment that suppresses nothing"
    engine = True

    valid = [
        Valid("shell", "curl -s http://169.254.169.254/latest/meta-data/ami-id  # imds-lint: ignore[IMDS101]\n"),
        Valid("shell", "curl -s -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 5'\n"),
    ]
    invalid = [
        Invalid("shell", "curl -s -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 5' # imds-lint: ignore[IMDS101]\n"),
    ]
