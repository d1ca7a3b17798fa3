from __future__ import annotations

from imds_lint.dependencies import FACT, describe, judge
from imds_lint.fixers.manifests import bump
from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid
from imds_lint.versions import AWS_SDK_PAGE, Role

_GO_MOD = """module example.com/app

go 1.21

require (
\tgithub.com/aws/aws-sdk-go v1.25.0
\tgithub.com/google/uuid v1.3.0
)
"""
_POM = """<project>
  <properties>
    <aws.version>1.11.500</aws.version>
  </properties>
  <dependencies>
    <dependency>
      <groupId>com.amazonaws</groupId>
      <artifactId>aws-java-sdk-s3</artifactId>
      <version>${aws.version}</version>
    </dependency>
  </dependencies>
</project>
"""


class SdkPredatesImdsv2(Rule):
    """
    ## What it does
    Flags an AWS SDK or AWS CLI pinned, locked or installed at a version older than
    the first release that fetches IMDSv2 tokens, at the manifest line, naming the
    version it resolves to and the minimum. An exact pin or a lock entry is an
    error; a range whose lower bound is too old but that admits a supported
    version is a warning.

    ## Why it breaks under IMDSv2-only
    SDKs older than the versions AWS lists ("Use a supported AWS SDK for IMDSv2")
    read region and role credentials from IMDS with IMDSv1 requests only. Once an
    instance requires tokens those requests get `401`, and every AWS call the
    program makes fails with missing credentials.

    ## Example
    ```text
    awscli==1.16.0
    ```

    ## Use instead
    ```text
    awscli==1.16.289
    ```

    ## Fix safety
    Raising the written version to the minimum is the fix. It is safe only for an
    exact pin that is the whole update (a `requirements.txt` without hashes, a
    `pip install pkg==x` line); everywhere else (ranges, `package.json`, `go.mod`,
    `pom.xml`, ...) it is unsafe because a lock file or the rest of the dependency
    graph must follow, and a version bump is your decision. Lock entries get no
    fix: update the manifest and re-lock.

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/use-a-supported-sdk-version-for-imdsv2.html
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-transition-to-version-2.html
    """

    code = "IMDS401"
    name = "sdk-predates-imdsv2"
    category = Category.DEPENDENCY
    severity = Severity.ERROR
    summary = "AWS SDK or CLI version without IMDSv2 support"
    fix_title = "Require the first IMDSv2-capable version"
    source = AWS_SDK_PAGE

    valid = [
        Valid("requirements.txt", "awscli==1.16.289\n"),
        Valid("requirements.txt", "boto3>=1.26\nrequests==2.31.0\n"),
        Valid("package.json", '{"dependencies": {"aws-sdk": "^2.1500.0"}}\n'),
        Valid("go.mod", _GO_MOD.replace("v1.25.0", "v1.44.0")),
        Valid("shell", "pip install 'awscli>=1.29'\n"),
    ]
    invalid = [
        Invalid("requirements.txt", "awscli==1.16.0\n", fixed="awscli==1.16.289\n"),
        Invalid("requirements.txt", "boto3>=1.9,<2  # AWS SDK\n", fixed="boto3>=1.12.6,<2  # AWS SDK\n",
                unsafe_fixes=True),
        Invalid("package.json", '{"dependencies": {"aws-sdk": "~2.600.0"}}\n',
                fixed='{"dependencies": {"aws-sdk": "~2.722.0"}}\n', unsafe_fixes=True),
        Invalid("go.mod", _GO_MOD, fixed=_GO_MOD.replace("v1.25.0", "v1.25.38"), unsafe_fixes=True),
        Invalid("pom.xml", _POM, fixed=_POM.replace("1.11.500", "1.11.678"), unsafe_fixes=True),
        Invalid("shell", "pip3 install --user awscli==1.16.0\n", fixed="pip3 install --user awscli==1.16.289\n"),
    ]

    def check_analysis(self, analysis, ctx):
        for fact in analysis.facts.get(FACT, ()):
            verdict = judge(fact, Role.SDK)
            if verdict is None:
                continue
            warning = fact.constraint.exact is None and verdict.admits_supported
            fix = bump(fact, verdict.row.minimum)
            ctx.report(self, fact.span, describe(verdict), fix,
                       severity=Severity.WARNING if warning else Severity.ERROR)
