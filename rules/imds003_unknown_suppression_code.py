from __future__ import annotations

from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid


class UnknownSuppressionCode(Rule):
    """
    ## What it does
    Reports a code in an `imds-lint: ignore[...]` comment that names no rule.

    ## Why it breaks under IMDSv2-only
    It does not; but a typo in a suppression (`IMDS11` for `IMDS101`) silently
    suppresses nothing, or everything in a family, which is rarely what was meant.

    ## Example
    ```shell
    curl -s http://169.254.169.254/latest/meta-data/ami-id  # imds-lint: ignore[IMDS909]
    ```

    ## Use instead
    ```shell
    curl -s http://169.254.169.254/latest/meta-data/ami-id  # imds-lint: ignore[IMDS101]
    ```

    ## Fix safety
    No fix: say which rule you meant.

    ## References
    - https://docs.astral.sh/ruff/linter/#error-suppression
    """

    code = "IMDS003"
    name = "unknown-suppression-code"
    category = Category.ENGINE
    severity = Severity.WARNING
    summary = "Suppression names an unknown rule code"
    engine = True

    valid = [Valid("shell", "curl -s http://169.254.169.254/latest/meta-data/ami-id  # imds-lint: ignore[IMDS101]\n")]
    invalid = [Invalid("shell", "curl -s http://169.254.169.254/latest/meta-data/ami-id  # imds-lint: ignore[IMDS909]\n", count=1)]
