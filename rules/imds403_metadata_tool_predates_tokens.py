from __future__ import annotations

from imds_lint.dependencies import FACT, describe, judge
from imds_lint.fixers.manifests import bump
from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid
from imds_lint.versions import Role


class MetadataToolPredatesTokens(Rule):
    """
    ## What it does
    Flags a metadata tool or agent installed at a version older than the first one
    that fetches IMDSv2 tokens: `apt`/`yum` pins of cloud-utils (`ec2metadata`,
    0.32), Amazon Linux ec2-utils (`ec2-metadata`, 1.1-1) and amazon-ec2-net-utils
    (1.3), the PyPI `ec2-metadata` package (2.2.0), and Datadog Agent pins below
    7.64.0 where the same file does not set `ec2_prefer_imdsv2`.

    ## Why it breaks under IMDSv2-only
    These tools query IMDS on the machine's behalf. Older versions send IMDSv1
    requests only, so once tokens are required they print nothing or fail, and
    the Datadog Agent loses its EC2 host name and tags.

    ## Example
    ```shell
    apt-get install -y cloud-utils=0.31-0ubuntu1
    ```

    ## Use instead
    ```shell
    apt-get install -y cloud-utils
    ```

    ## Fix safety
    Unsafe for the PyPI `ec2-metadata` pin (raised to 2.2.0); no fix for system
    packages and agents, whose version strings carry distribution revisions: pin a
    current package, or for Datadog set `ec2_prefer_imdsv2: true` (or
    `DD_EC2_PREFER_IMDSV2=true`).

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-transition-to-version-2.html
    - https://github.com/DataDog/datadog-agent/blob/main/CHANGELOG.rst
    """

    code = "IMDS403"
    name = "metadata-tool-predates-tokens"
    category = Category.DEPENDENCY
    severity = Severity.ERROR
    summary = "Metadata tool or agent version without IMDSv2 support"

    valid = [
        Valid("shell", "apt-get install -y cloud-utils\n"),
        Valid("shell", "yum install -y ec2-utils-1.2-1.amzn2\n"),
        Valid("shell", "export DD_EC2_PREFER_IMDSV2=true\napt-get install -y datadog-agent=1:7.50.0-1\n"),
    ]
    invalid = [
        Invalid("shell", "apt-get install -y cloud-utils=0.31-0ubuntu1\n"),
        Invalid("shell", "yum install -y ec2-utils-1.0-3.amzn2\n"),
        Invalid("shell", "apt-get install -y datadog-agent=1:7.50.0-1\n"),
        Invalid("shell", 'DD_AGENT_MAJOR_VERSION=7 DD_AGENT_MINOR_VERSION=52.1 DD_API_KEY=x bash -c "$(cat install_script_agent7.sh)"\n'),
        Invalid("requirements.txt", "ec2-metadata==2.0.0\n", fixed="ec2-metadata==2.2.0\n"),
    ]

    def check_analysis(self, analysis, ctx):
        for fact in analysis.facts.get(FACT, ()):
            verdict = judge(fact, Role.TOOL)
            if verdict is None:
                continue
            fix = bump(fact, verdict.row.minimum) if fact.ecosystem == "pypi" else None
            warning = fact.constraint.exact is None and verdict.admits_supported
            ctx.report(self, fact.span, describe(verdict), fix,
                       severity=Severity.WARNING if warning else Severity.ERROR)
