from __future__ import annotations

from imds_lint.frontends import COMPUTE
from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid


class HopLimitBlocksContainers(Rule):
    """
    ## What it does
    Flags an instance or launch template that requires IMDSv2 tokens with a
    response hop limit of 1 (set, or the default) while its user-data or module
    shows that it runs containers: Docker installed or started, `ECS_CLUSTER=`,
    the EKS bootstrap script or `nodeadm`, a Kubernetes node.

    ## Why it breaks under IMDSv2-only
    The token `PUT` response carries an IP TTL of the hop limit. A container on a
    bridge network is one hop further away, so with a limit of 1 the token never
    reaches it: SDKs in containers time out on IMDS and fail to find credentials
    or the region.

    ## Example
    ```hcl
    resource "aws_instance" "ecs" {
      user_data = <<-EOF
        #!/bin/bash
        echo "ECS_CLUSTER=prod" >> /etc/ecs/ecs.config
      EOF
      metadata_options {
        http_tokens                 = "required"
        http_put_response_hop_limit = 1
      }
    }
    ```

    ## Use instead
    ```hcl
    resource "aws_instance" "ecs" {
      user_data = <<-EOF
        #!/bin/bash
        echo "ECS_CLUSTER=prod" >> /etc/ecs/ecs.config
      EOF
      metadata_options {
        http_tokens                 = "required"
        http_put_response_hop_limit = 2
      }
    }
    ```

    ## Fix safety
    Unsafe: a hop limit of 2 lets containers reach the instance role. Often the
    better fix is to give containers their own credentials (ECS task roles, EKS
    IRSA or Pod Identity) or host networking, and keep the limit at 1.

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html#imds-considerations
    - https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html
    """

    code = "IMDS210"
    name = "hop-limit-blocks-containers"
    category = Category.HOP_LIMIT
    severity = Severity.WARNING
    summary = "Hop limit 1 with required tokens on an instance that runs containers"
    fix_title = "Raise the response hop limit to 2"

    valid = [
        Valid("terraform", 'resource "aws_instance" "web" {\n  user_data = <<-EOF\n    #!/bin/bash\n    yum install -y nginx\n  EOF\n'
                           '  metadata_options {\n    http_tokens = "required"\n  }\n}\n'),
        Valid("terraform", 'resource "aws_instance" "ecs" {\n  user_data = "ECS_CLUSTER=prod"\n'
                           '  metadata_options {\n    http_tokens = "required"\n    http_put_response_hop_limit = 2\n  }\n}\n'),
    ]
    invalid = [
        Invalid(
            "terraform",
            'resource "aws_instance" "ecs" {\n  user_data = <<-EOF\n    #!/bin/bash\n    echo "ECS_CLUSTER=prod" >> /etc/ecs/ecs.config\n  EOF\n'
            '  metadata_options {\n    http_tokens                 = "required"\n    http_put_response_hop_limit = 1\n  }\n}\n',
            fixed='resource "aws_instance" "ecs" {\n  user_data = <<-EOF\n    #!/bin/bash\n    echo "ECS_CLUSTER=prod" >> /etc/ecs/ecs.config\n  EOF\n'
                  '  metadata_options {\n    http_tokens                 = "required"\n    http_put_response_hop_limit = 2\n  }\n}\n',
            unsafe_fixes=True,
        ),
        Invalid(
            "terraform",
            'resource "aws_launch_template" "n" {\n  user_data = base64encode("#!/bin/bash\\n/etc/eks/bootstrap.sh prod\\n")\n'
            '  metadata_options {\n    http_tokens = "required"\n  }\n}\n',
            fixed='resource "aws_launch_template" "n" {\n  user_data = base64encode("#!/bin/bash\\n/etc/eks/bootstrap.sh prod\\n")\n'
                  '  metadata_options {\n    http_tokens = "required"\n    http_put_response_hop_limit = 2\n  }\n}\n',
            unsafe_fixes=True,
        ),
    ]

    def check_analysis(self, analysis, ctx):
        for resource in analysis.facts.get(COMPUTE, ()):
            from imds_lint.frontends.iac import spelled  # loaded with the file's IaC front-end already

            if resource.account_defaults or resource.containers is None or resource.effective_endpoint == "disabled":
                continue
            if resource.effective_tokens != "required" or resource.effective_hop_limit != 1:
                continue
            message = (f"{resource.type} {resource.name} {resource.containers} but keeps the IMDS hop limit at 1 with "
                       "tokens required, so containers on bridge networks get no token; set "
                       f"{spelled(resource, 'http_put_response_hop_limit', 2)}, or use host networking or task/pod roles (ECS task roles, IRSA, Pod Identity)")
            fix = ctx.fixer.set_option(resource, "http_put_response_hop_limit", 2, self.fix_title)
            ctx.report(self, resource.anchor, message, fix, extent=resource.extent)
