from __future__ import annotations

from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid

_EXEMPT = {"host", "awsvpc"}
_OPTIONS = ("raise http_put_response_hop_limit to 2 (3 for overlay CNIs or Docker-in-Docker), "
            "use host networking (docker build --network host, network_mode: host), or better, give the "
            "workload credentials that need no IMDS (ECS task roles, EKS IRSA or Pod Identity)")


class RequestInBridgedContainer(Rule):
    """
    ## What it does
    Flags a request to the instance metadata service that runs inside a container
    whose network is one hop away from the instance: a Dockerfile `RUN`, `CMD`,
    `ENTRYPOINT` or `HEALTHCHECK`, a script such an instruction runs, a
    docker-compose service, a Kubernetes pod or an ECS task on a bridge network,
    or a `docker run`/`kubectl run` command in a script. The message says where the
    container context comes from ("runs in container image svc/Dockerfile via
    ENTRYPOINT"). It is reported in addition to IMDS101 when the request is also
    tokenless: a token-first request still breaks here.

    ## Why it breaks under IMDSv2-only
    `http_put_response_hop_limit` is the IP TTL of the response to the token PUT
    (1 to 64, default 1 on many launch paths). A process in a container on a
    bridge network is one hop further from the instance, so at hop limit 1 the
    token response is dropped on the way and the PUT times out: once the instance
    requires tokens, every IMDS call from the container fails, however token-first
    the code is. `RUN` runs at build time on the build network, which is a bridge
    unless the image is built with `--network host`. Overlay CNIs and
    Docker-in-Docker add more hops. Host networking adds none, and so do ECS tasks
    in `awsvpc` mode: the task's elastic network interface sits in the task's own
    network namespace, with no bridge on the host forwarding (and decrementing the
    TTL of) its traffic; ECS documents that such tasks reach IMDS unless the agent
    sets `ECS_AWSVPC_BLOCK_IMDS`. Those are not flagged; neither is `network_mode:
    host`, `hostNetwork: true`, `--network host` or ECS `networkMode: host`.

    Which repo files run in an image is a heuristic: a script counts when a
    `COPY`/`ADD` from the build context (the Dockerfile's folder or a parent, up to
    the scan root) copies it, or a folder holding it, and `ENTRYPOINT`, `CMD` or
    `RUN` runs it by path or file name. Where the image then runs comes from the
    repo too, in the Dockerfile's folder or up to three parents: a compose service
    that builds it, or an ECS task definition (`*task-def*.json`, a Terraform
    `aws_ecs_task_definition`, or a CloudFormation `AWS::ECS::TaskDefinition` in a
    JSON or YAML template) whose container image is named after the
    Dockerfile's folder (or `Dockerfile.<name>`), written out or through the ECR
    repository it comes from (`aws_ecr_repository`; an `AWS::ECR::Repository`
    named by `!GetAtt Repo.RepositoryUri`, `!Sub "${Repo.RepositoryUri}:tag"` or
    `!Join`), or that has one container and sits beside the Dockerfile; the
    task's network mode then decides (`awsvpc` and `host` are not flagged). A
    network mode the repo cannot tell (a variable without a default, `!If`,
    `!FindInMap`) decides nothing.

    ## Example
    ```dockerfile
    FROM alpine:3.20
    CMD curl -s http://169.254.169.254/latest/meta-data/instance-id
    ```

    ## Use instead
    ```dockerfile
    FROM alpine:3.20
    CMD echo "$INSTANCE_ID"
    ```

    ## Fix safety
    No automatic fix: the remedy is outside the file. Raise the hop limit
    (`aws ec2 modify-instance-metadata-options --http-put-response-hop-limit 2`,
    or `metadata_options { http_put_response_hop_limit = 2 }` in the launch
    template), run the container on the host network, or stop using IMDS from the
    container (ECS task role, EKS IRSA or Pod Identity, or pass the values in).
    Suppress with `# imds-lint: ignore[IMDS201]` once the hop limit is raised.

    ## References
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-existing-instances.html
    - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html
    - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
    - https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/security-iam-roles.html
    - https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html
    """

    code = "IMDS201"
    name = "request-in-bridged-container"
    category = Category.HOP_LIMIT
    severity = Severity.WARNING
    summary = "IMDS request from a container one network hop away from the instance"
    help = _OPTIONS[0].upper() + _OPTIONS[1:]

    valid = [
        Valid("dockerfile", 'FROM alpine:3.20\nCMD echo "$INSTANCE_ID"\n'),
        Valid("dockerfile", "FROM alpine:3.20\nRUN --network=host curl -s http://169.254.169.254/latest/meta-data/ami-id\n"),
        Valid("shell", "curl -s http://169.254.169.254/latest/meta-data/instance-id\n"),
        Valid("shell", "docker run --rm --network host alpine curl -s http://169.254.169.254/latest/meta-data/\n"),
        Valid("terraform", 'resource "aws_ecs_task_definition" "api" {\n  network_mode = "awsvpc"\n'
                           '  container_definitions = jsonencode([{\n    name    = "app"\n'
                           '    command = ["curl", "-s", "http://169.254.169.254/latest/meta-data/instance-id"]\n  }])\n}\n'),
    ]
    invalid = [
        Invalid("shell", "docker run --rm alpine sh -c 'curl -s http://169.254.169.254/latest/meta-data/ami-id'\n"),
        Invalid("dockerfile", "FROM alpine:3.20\nCMD curl -s http://169.254.169.254/latest/meta-data/instance-id\n"),
        Invalid("dockerfile", "FROM alpine:3.20\nRUN apk add curl && \\\n    curl -s http://169.254.169.254/latest/meta-data/ami-id\n"),
        Invalid("dockerfile", 'FROM alpine:3.20\nHEALTHCHECK CMD ["curl", "-f", "http://169.254.169.254/latest/meta-data/"]\n'),
        Invalid("terraform", 'resource "aws_ecs_task_definition" "api" {\n  network_mode = "bridge"\n'
                             '  container_definitions = jsonencode([{\n    name    = "app"\n'
                             '    command = ["curl", "-s", "http://169.254.169.254/latest/meta-data/instance-id"]\n  }])\n}\n'),
        Invalid("yaml", 'Resources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n'
                        '      ContainerDefinitions:\n        - Name: app\n'
                        '          Command: [sh, -c, "curl -s http://169.254.169.254/latest/meta-data/instance-id"]\n'),
    ]

    def check_request(self, request, ctx):
        container = request.container
        if container is None or container.network in _EXEMPT:
            return
        if request.is_token_fetch and any(r.container == container and not r.is_token_fetch and r.span != request.span
                                          for r in ctx.analysis.requests):
            return  # one finding per RUN (or container command): the request the token is for carries it
        # The advice is the same for every finding: it is the rule's help line, not part of the message.
        what = f"{request.client} request to IMDS {container.description}"
        if container.network == "build":
            message = f"{what}, on the build's bridge network"
        elif container.network == "none":
            message = f"{what}, on network 'none', which cannot reach IMDS at all"
        else:
            message = f"{what}, on a {container.network} network one hop further from IMDS"
        if container.network != "none":
            message += ": at hop limit 1 the token never arrives"
        ctx.report_request(self, request, message)
