"""cloud-init user-data: cloud-config, write_files encodings, MIME multipart, Windows, base64 blobs."""

from __future__ import annotations

import base64
import gzip
import json

import yaml

from imds_lint.kinds import Kind
from tests.helpers import codes, fix, lint

SCRIPT = "#!/bin/bash\ncurl -s http://169.254.169.254/latest/meta-data/instance-id\n"


def lines(findings, code="IMDS101"):
    return [f.start.line for f in findings if f.code == code]


def test_runcmd_string_and_argv_forms():
    text = ("#cloud-config\nruncmd:\n  - curl -s http://169.254.169.254/latest/meta-data/ami-id\n"
            "  - [curl, -s, 'http://169.254.169.254/latest/meta-data/hostname']\n  - echo done\n")
    found = lint(text, Kind.USER_DATA)
    assert lines(found) == [3, 4]
    assert all(f.fix is not None for f in found if f.code == "IMDS101")
    fixed = yaml.safe_load(fix(text, Kind.USER_DATA))["runcmd"]
    # The argv list becomes the shell line cloud-init would have written for it, token-first (each
    # item is guarded: cloud-init runs them all in one script, so only the first fetch runs).
    guard, line = fixed[1].split("; ", 1)
    assert guard.startswith(': "${IMDS_TOKEN=$(curl -fs -X PUT')
    assert line == 'curl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" -s http://169.254.169.254/latest/meta-data/hostname'
    assert fixed[0].startswith(': "${IMDS_TOKEN=$(curl -fs -X PUT') and fixed[2] == "echo done"


def test_runcmd_plain_item_is_quoted_to_take_the_fix():
    # A plain scalar cannot take the token fetch's ': ' without becoming a mapping: it gains quotes.
    text = "#cloud-config\nbootcmd:\n  - curl -s http://169.254.169.254/latest/meta-data/ami-id\n"
    fixed = fix(text, Kind.USER_DATA)
    assert fixed.splitlines()[2].startswith("  - ': \"${IMDS_TOKEN=$(curl")
    assert yaml.safe_load(fixed)["bootcmd"][0].endswith("-s http://169.254.169.254/latest/meta-data/ami-id")


def test_runcmd_quoted_item_fix_stays_one_line_and_valid_yaml():
    text = '#cloud-config\nbootcmd:\n  - "curl -s http://169.254.169.254/latest/meta-data/ami-id"\n'
    fixed = fix(text, Kind.USER_DATA)
    item = yaml.safe_load(fixed)["bootcmd"][0]
    assert item.startswith(': "${IMDS_TOKEN=$(curl -fs -X PUT') and "; curl -H" in item
    assert "IMDS101" not in codes(lint(fixed, Kind.USER_DATA))


def test_write_files_plain_block_fix_keeps_indentation():
    text = ("#cloud-config\nwrite_files:\n  - path: /opt/a.sh\n    content: |\n      #!/bin/sh\n"
            "      curl -s http://169.254.169.254/latest/meta-data/ami-id\n")
    fixed = fix(text, Kind.USER_DATA)
    content = yaml.safe_load(fixed)["write_files"][0]["content"]
    assert content.splitlines()[1].startswith(': "${IMDS_TOKEN=')
    assert fix(fixed, Kind.USER_DATA) == fixed


TOKEN_FIRST = ('#!/bin/bash\n: "${IMDS_TOKEN=$(curl -fs -X PUT "http://169.254.169.254/latest/api/token" '
               '-H "X-aws-ec2-metadata-token-ttl-seconds: 21600")}"\ncurl -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" '
               '-s http://169.254.169.254/latest/meta-data/instance-id\n')


def test_write_files_b64_and_gzip_are_decoded_fixed_and_encoded_again():
    b64 = base64.b64encode(SCRIPT.encode()).decode()
    gz = base64.b64encode(gzip.compress(SCRIPT.encode())).decode()
    text = (f"#cloud-config\nwrite_files:\n  - path: /a.sh\n    encoding: b64\n    content: {b64}\n"
            f"  - path: /b.sh\n    encoding: gzip+b64\n    content: {gz}\n")
    found = lint(text, Kind.USER_DATA)
    assert lines(found) == [5, 8]
    assert all(f.fix is not None for f in found)
    fixed = fix(text, Kind.USER_DATA)
    files = yaml.safe_load(fixed)["write_files"]
    original = yaml.safe_load(text)["write_files"]
    assert [{k: v for k, v in f.items() if k != "content"} for f in files] == \
        [{k: v for k, v in f.items() if k != "content"} for f in original]
    assert base64.b64decode(files[0]["content"]).decode() == TOKEN_FIRST
    assert gzip.decompress(base64.b64decode(files[1]["content"])).decode() == TOKEN_FIRST
    assert fix(fixed, Kind.USER_DATA) == fixed


def test_mime_parts_map_to_their_lines_and_base64_parts_are_decoded():
    encoded = base64.encodebytes(SCRIPT.encode() * 3).decode()  # wrapped at 76, as email writes it
    text = ('Content-Type: multipart/mixed; boundary="b"\nMIME-Version: 1.0\n\n'
            '--b\nContent-Type: text/x-shellscript\n\n' + SCRIPT +
            '--b\nContent-Type: text/x-shellscript\nContent-Transfer-Encoding: base64\n\n' + encoded +
            '--b\nContent-Type: text/cloud-config\n\n#cloud-config\nruncmd:\n  - \"curl http://169.254.169.254/latest/meta-data/\"\n'
            '--b--\n')
    found = lint(text, Kind.USER_DATA)
    assert lines(found) == [8, 13, 22]
    fixed = fix(text, Kind.USER_DATA)
    assert fixed.count("{IMDS_TOKEN=") == 2 and encoded not in fixed
    import email

    parts = [p for p in email.message_from_string(fixed).walk() if not p.is_multipart()]
    script = parts[1].get_payload(decode=True).decode()
    assert script.count("-X PUT") == 1 and script.count("X-aws-ec2-metadata-token: $IMDS_TOKEN") == 3
    body = fixed.split("Content-Transfer-Encoding: base64\n\n", 1)[1].split("--b", 1)[0]
    assert {len(line) for line in body.splitlines()[:-1]} == {76}, "wrapped as it was"


def test_windows_powershell_block_is_text_scanned():
    text = "<powershell>\n$id = Invoke-RestMethod -Uri http://169.254.169.254/latest/meta-data/instance-id\n</powershell>\n"
    assert lines(lint(text, Kind.USER_DATA)) == [2]


def test_base64_blob_in_json_is_reported_on_its_line():
    blob = base64.b64encode(SCRIPT.encode()).decode()
    text = json.dumps({"LaunchTemplateData": {"ImageId": "ami-1", "UserData": blob}}, indent=2) + "\n"
    found = lint(text, Kind.JSON)
    assert lines(found) == [4] and found[0].fix is not None
    fixed = json.loads(fix(text, Kind.JSON))
    assert base64.b64decode(fixed["LaunchTemplateData"]["UserData"]).decode() == TOKEN_FIRST
    assert fixed["LaunchTemplateData"]["ImageId"] == "ami-1"
    assert lint(json.dumps({"x": base64.b64encode(b"just some harmless bytes here!!").decode()}), Kind.JSON) == []


def test_base64_blob_in_tfvars():
    blob = base64.b64encode(SCRIPT.encode()).decode()
    text = f'ami = "ami-1"\nbootstrap_user_data = "{blob}"\n'
    assert lines(lint(text, Kind.TERRAFORM)) == [2]


def test_hostile_user_data_never_raises():
    for text in ["#cloud-config\n: [", "#cloud-config\nruncmd: 3\nwrite_files: [{content: !!binary x}]\n",
                 "Content-Type: multipart/mixed; boundary=\n\n--\n", "<powershell>", "#cloud-boothook\n"]:
        lint(text, Kind.USER_DATA)


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.helpers import lint_notes  # noqa: E402

_PIECES = st.sampled_from([
    "#cloud-config\n", "runcmd:\n", "  - ", "curl http://169.254.169.254/latest/meta-data/", "'", '"', "|\n", "\n",
    "Resources:\n  R:\n    Type: AWS::EC2::Instance\n", "    Properties:\n", "      UserData: !Base64 ", "!Sub ", "${!X}",
    'resource "aws_instance" "a" {\n', "user_data = <<-EOF\n", "EOF\n", "}\n", "$${", "%{ if x }", "\\",
    "import aws_cdk\nfrom aws_cdk import aws_ec2 as ec2\n", "ec2.Instance(self, 'I'", ")", "ud.add_commands(",
    "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/x-shellscript\n\n",
])


@given(st.lists(_PIECES, max_size=12).map("".join),
       st.sampled_from([Kind.USER_DATA, Kind.YAML, Kind.JSON, Kind.TERRAFORM, Kind.TEMPLATE, Kind.PYTHON]))
def test_iac_front_ends_never_fail_internally(text, kind):
    _, notes = lint_notes(text, kind)
    assert not [n for n in notes if "internal error" in n], notes
