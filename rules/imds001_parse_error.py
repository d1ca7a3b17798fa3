from __future__ import annotations

from imds_lint.model import Category, Severity
from imds_lint.rule import Invalid, Rule, Valid


class ParseError(Rule):
    """
    ## What it does
    Reports a file (or an embedded document) that touches IMDS but that its
    language's own parser, or one as strict, rejects: Python (CPython's parser),
    JSON, YAML as PyYAML loads it (CloudFormation, cloud-config, workflows,
    manifests), TOML, XML. Its requests in the broken region were found by a
    text scan, so some may be missed and none there can be fixed automatically.

    Where only a tree-sitter grammar gave up (bash heredocs, PowerShell bare
    words, newer Go syntax, HCL, Dockerfiles), the file may well be fine: that
    region is text-scanned and a note "scanned as text" names its line in the
    file. It is never reported as a parse error.

    ## Why it breaks under IMDSv2-only
    It does not by itself; but a file that does not parse cannot be checked
    fully, and a fix cannot be applied to it safely.

    ## Example
    ```python
    import urllib.request

    def instance_id():
        return urllib.request.urlopen("http://169.254.169.254/latest/meta-data/instance-id").read(
    ```

    ## Use instead
    ```python
    import urllib.request

    def instance_id():
        return urllib.request.urlopen("http://169.254.169.254/latest/meta-data/instance-id").read()
    ```

    ## Fix safety
    No fix: repair the syntax first.

    ## References
    - https://docs.python.org/3/library/functions.html#compile
    - https://pyyaml.org/wiki/PyYAMLDocumentation
    """

    code = "IMDS001"
    name = "parse-error"
    category = Category.ENGINE
    severity = Severity.WARNING
    summary = "File touches IMDS but its language's parser rejects it"
    engine = True

    valid = [
        Valid("python", 'import urllib.request\n\ndef instance_id():\n    return urllib.request.urlopen("http://169.254.169.254/latest/meta-data/instance-id").read()\n'),
        # tree-sitter-bash giving up is not a parse error: a note, and the text scan still runs.
        Valid("shell", "if [ -f /etc/os-release ]; then\n  curl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" http://169.254.169.254/latest/meta-data/instance-id\n"),
    ]
    invalid = [
        Invalid("python", 'import urllib.request\n\ndef instance_id():\n    return urllib.request.urlopen("http://169.254.169.254/latest/meta-data/instance-id").read(\n'),
        Invalid("yaml", "Resources:\n  Web:\n    Type: AWS::EC2::Instance\n    Properties:\n      UserData: [curl http://169.254.169.254/latest/meta-data/\n"),
    ]
