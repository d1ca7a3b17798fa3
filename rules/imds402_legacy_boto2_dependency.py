from __future__ import annotations

from imds_lint.dependencies import FACT, describe, judge
from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid
from imds_lint.versions import Role


class LegacyBoto2Dependency(Rule):
    """
    ## What it does
    Flags a dependency on boto 2 (the `boto` package), pinned or not, in any
    manifest, lock file or `pip install` command.

    ## Why it breaks under IMDSv2-only
    boto 2 is unmaintained and never learned IMDSv2: its instance metadata helpers
    and its credential provider send IMDSv1 requests, which get `401` once an
    instance requires tokens. No version of boto 2 fixes this.

    ## Example
    ```text
    boto==2.49.0
    ```

    ## Use instead
    ```text
    boto3==1.34.0
    ```

    ## Fix safety
    No fix: moving from boto 2 to boto3 changes the API the code calls, so the
    code has to be ported (`boto.connect_ec2()` becomes `boto3.client("ec2")`).

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/use-a-supported-sdk-version-for-imdsv2.html
    - https://github.com/boto/boto
    """

    code = "IMDS402"
    name = "legacy-boto2-dependency"
    category = Category.DEPENDENCY
    severity = Severity.ERROR
    summary = "boto 2 dependency: no version supports IMDSv2"

    valid = [
        Valid("requirements.txt", "boto3==1.34.0\n"),
        Valid("requirements.txt", "botocore>=1.31\nboto3-stubs==1.34.0\n"),
    ]
    invalid = [
        Invalid("requirements.txt", "boto==2.49.0\n"),
        Invalid("pyproject.toml", '[project]\nname = "app"\ndependencies = ["boto>=2.40", "requests"]\n'),
        Invalid("Pipfile", '[packages]\nboto = "*"\n'),
        Invalid("shell", "pip install boto\n"),
    ]

    def check_analysis(self, analysis, ctx):
        for fact in analysis.facts.get(FACT, ()):
            verdict = judge(fact, Role.LEGACY)
            if verdict is not None:
                ctx.report(self, fact.span, describe(verdict) + "; port the code to boto3")
