"""The program an outer document runs, read the way its runner reads it, so the three-world
runner can compare an embedded script before and after its fix.

Each extractor takes the outer file's text and the manifest entry and returns a shell
script; it reads the document with the same rules as the thing that runs it
(cloud-init's shellify, compose's interpolation and word splitting, kubelet's
``$$``, CloudFormation's Fn::Join, base64, an ECS task's entryPoint + command, Packer's inline lines). YAML is
loaded with the safe loader only.
"""

from __future__ import annotations

import base64
import json
import re
import shlex

import yaml

SHELLS = {"sh", "bash", "dash", "ash"}


def cloud_init(text: str, entry: dict) -> str:
    """runcmd as cloud-init writes it: one /bin/sh script, strings verbatim, argv lists quoted word by word."""
    lines = ["#!/bin/sh"]
    for item in yaml.safe_load(text)["runcmd"]:
        if isinstance(item, list):
            lines.append(" ".join("'%s'" % str(word).replace("'", "'\\''") for word in item))
        else:
            lines.append(item)
    return "\n".join(lines) + "\n"


def _argv_script(argv: list[str]) -> str:
    """``sh -c script`` runs the script; any other argv runs as it is (exec form, no shell)."""
    if len(argv) > 2 and argv[0].rsplit("/", 1)[-1] in SHELLS and argv[1] == "-c":
        return "#!/bin/sh\n" + argv[2] + "\n"
    return "#!/bin/sh\nexec " + shlex.join(argv) + "\n"


def compose(text: str, entry: dict) -> str:
    """A service's command: compose fills in `$VAR` and turns `$$` into `$`, then splits a string into words."""
    service = yaml.safe_load(text)["services"][entry["service"]]
    value = service[entry.get("field", "command")]
    assert "$" not in (value if isinstance(value, str) else "".join(value)).replace("$$", ""), \
        "the fixture relies on compose's own variables"
    if isinstance(value, str):
        return _argv_script(shlex.split(value.replace("$$", "$")))
    return _argv_script([word.replace("$$", "$") for word in value])


def kubernetes(text: str, entry: dict) -> str:
    """A container's command and args, after kubelet's expansion (`$$` is `$`; the fixtures set no env refs)."""
    for document in yaml.safe_load_all(text):
        for container in document["spec"]["template"]["spec"]["containers"]:
            if container["name"] == entry["container"]:
                argv = container.get("command", []) + container.get("args", [])
                return _argv_script([re.sub(r"\$\$", "$", word) for word in argv])
    raise KeyError(entry["container"])


def terraform_base64(text: str, entry: dict) -> str:
    """The user-data a launch template's literal base64 string holds."""
    match = re.search(r'\buser_data(?:_base64)?\s*=\s*"([A-Za-z0-9+/=]+)"', text)
    assert match is not None, "no literal base64 user_data"
    return base64.b64decode(match.group(1)).decode("utf-8")


def cloudformation_join(text: str, entry: dict) -> str:
    """UserData's Fn::Base64 of Fn::Join, with each Ref given the value the entry names."""
    refs = entry.get("refs", {})
    template = json.loads(text)
    user_data = template["Resources"][entry["resource"]]["Properties"]["UserData"]["Fn::Base64"]["Fn::Join"]
    delimiter, parts = user_data
    return delimiter.join(part if isinstance(part, str) else refs[part["Ref"]] for part in parts)


def ecs_task(text: str, entry: dict) -> str:
    """A container definition's entryPoint followed by its command: the argv the ECS agent hands Docker."""
    for container in json.loads(text)["containerDefinitions"]:
        if container["name"] == entry["container"]:
            return _argv_script(container.get("entryPoint", []) + container.get("command", []))
    raise KeyError(entry["container"])


def packer_inline(text: str, entry: dict) -> str:
    """A legacy template's shell provisioner as Packer runs it: its inline elements written one per
    line to a file run by the default inline_shebang, ``/bin/sh -e``. ``stubs`` names commands that
    must not run on the test machine (``sudo apt-get update``): each becomes a function doing
    nothing, in the original and the fixed script alike. ``show`` names files the script writes
    what it read into: each goes to the run's own folder (runs may be concurrent) and is printed
    after the script, so the comparison sees what was read."""
    provisioner = json.loads(text)["provisioners"][entry.get("provisioner", 0)]
    stubs = "".join(f"{name}() {{ :; }}\n" for name in entry.get("stubs", ()))
    script = "\n".join(provisioner["inline"]) + "\n"
    for path in entry.get("show", ()):
        local = "./" + path.rsplit("/", 1)[-1]
        script = script.replace(path, local) + f"cat {local}\n"
    return "#!/bin/sh\nset -e\n" + stubs + script


EXTRACTORS = {
    "cloud-init": cloud_init,
    "compose": compose,
    "kubernetes": kubernetes,
    "terraform-base64": terraform_base64,
    "cloudformation-join": cloudformation_join,
    "ecs-task": ecs_task,
    "packer-inline": packer_inline,
}
