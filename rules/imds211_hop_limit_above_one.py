from __future__ import annotations

from imds_lint.frontends import COMPUTE
from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid


class HopLimitAboveOne(Rule):
    """
    ## What it does
    Notes an instance or launch template with a response hop limit above 1
    when nothing in its user-data or module shows that it runs containers.

    ## Why it breaks under IMDSv2-only
    Nothing breaks; the limit only widens who can obtain a token: anything one
    more network hop away (a container, a forwarded request) can read the
    instance role. Without containers, 1 is enough.

    ## Example
    ```hcl
    resource "aws_instance" "web" {
      metadata_options {
        http_tokens                 = "required"
        http_put_response_hop_limit = 3
      }
    }
    ```

    ## Use instead
    ```hcl
    resource "aws_instance" "web" {
      metadata_options {
        http_tokens                 = "required"
        http_put_response_hop_limit = 1
      }
    }
    ```

    Opt-in: it runs only when named (`--select IMDS211`, or `select = ["ALL",
    "IMDS211"]` in `[tool.imds-lint]`); `ALL` and `IMDS2` leave it out. Whether
    containers run is decided from every signal the linter has (user-data,
    cfn-init commands and packages, EKS/ECS/kops node roles, names, AMIs), and
    still cannot be seen when the AMI or configuration management starts them:
    on public code, advice to lower the limit was mostly wrong.

    ## Fix safety
    No automatic fix: containers may be started by something the linter cannot
    see (the AMI, configuration management).

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html#imds-considerations
    """

    code = "IMDS211"
    name = "hop-limit-above-one"
    category = Category.HOP_LIMIT
    severity = Severity.INFO
    summary = "Hop limit above 1 where nothing runs containers"
    opt_in = True

    valid = [
        Valid("terraform", 'resource "aws_instance" "web" {\n  metadata_options {\n    http_tokens                 = "required"\n'
                           '    http_put_response_hop_limit = 1\n  }\n}\n'),
        Valid("terraform", 'resource "aws_instance" "d" {\n  user_data = "#!/bin/sh\\nsystemctl start docker\\n"\n'
                           '  metadata_options {\n    http_tokens = "required"\n    http_put_response_hop_limit = 2\n  }\n}\n'),
    ]
    invalid = [
        Invalid("terraform", 'resource "aws_instance" "web" {\n  metadata_options {\n    http_tokens                 = "required"\n'
                             '    http_put_response_hop_limit = 3\n  }\n}\n'),
    ]

    def check_analysis(self, analysis, ctx):
        for resource in analysis.facts.get(COMPUTE, ()):
            if resource.containers is not None or resource.container_hint is not None or resource.account_defaults:
                continue
            limit = resource.effective_hop_limit
            if limit is None or limit <= 1 or resource.hop_limit.value is None:
                continue
            message = (f"{resource.type} {resource.name} sets the IMDS hop limit to {limit} but nothing in its user-data runs "
                       "containers, so the extra hops only widen who can get a token; use 1 unless containers need it")
            ctx.report(self, resource.anchor, message, extent=resource.extent)
