"""Commands that start a container from a script (docker/podman/nerdctl/finch run|exec, kubectl run|exec).

What the container runs is read like any other command; where it runs (its
network) becomes the container context of the requests it makes.
"""

from __future__ import annotations

from imds_lint.clients import Arg
from imds_lint.records import dataclass

# docker/podman/nerdctl run and exec options that take a value (the rest are flags).
_CONTAINER_ARG = {
    "-a", "--attach", "--add-host", "--blkio-weight", "--cap-add", "--cap-drop", "--cgroup-parent",
    "--cgroupns", "--cidfile", "--cpu-period", "--cpu-quota", "--cpu-shares", "-c", "--cpus",
    "--cpuset-cpus", "--cpuset-mems", "--detach-keys", "--device", "--dns", "--dns-option",
    "--dns-search", "--domainname", "--entrypoint", "-e", "--env", "--env-file", "--expose",
    "--gpus", "--group-add", "--health-cmd", "--health-interval", "--health-retries",
    "--health-start-period", "--health-timeout", "-h", "--hostname", "--ip", "--ip6", "--ipc",
    "--isolation", "--kernel-memory", "-l", "--label", "--label-file", "--link", "--log-driver",
    "--log-opt", "--mac-address", "-m", "--memory", "--memory-reservation", "--memory-swap",
    "--mount", "--name", "--net", "--network", "--network-alias", "--oom-score-adj", "--pid",
    "--pids-limit", "--platform", "-p", "--publish", "--pull", "--restart", "--runtime",
    "--security-opt", "--shm-size", "--stop-signal", "--stop-timeout", "--storage-opt", "--sysctl",
    "--tmpfs", "--ulimit", "-u", "--user", "--userns", "--uts", "-v", "--volume", "--volume-driver",
    "--volumes-from", "-w", "--workdir", "--pod", "--arch", "--os",
}
_KUBECTL_ARG = {"-c", "--container", "-n", "--namespace", "--image", "--context", "--cluster",
                "--kubeconfig", "-l", "--selector", "--env", "--labels", "--overrides", "--restart",
                "--pod-running-timeout", "--port", "--user", "--as", "--request-timeout"}


@dataclass
class ContainerCommand:
    """A container started (or entered) from a script, and the command it runs there."""

    command: list[Arg]
    network: str
    description: str
    image: Arg | None = None


def parse_container_command(program: str, args: list[Arg]) -> ContainerCommand | None:
    """``docker run [opts] IMAGE CMD...``, ``docker exec [opts] CTR CMD...``, podman and
    nerdctl alike, and ``kubectl run|exec ... -- CMD...``; None for anything else."""
    words = [a.value for a in args]
    if program == "kubectl":
        if not words or words[0] not in ("run", "exec") or "--" not in words:
            return None
        split = words.index("--")
        return ContainerCommand(args[split + 1:], "pod", f"runs in a Kubernetes pod started by kubectl {words[0]}")
    if program not in ("docker", "podman", "nerdctl", "finch"):
        return None
    start = 1 if words[:1] and words[0] in ("run", "exec") else 2 if words[:2] in (["container", "run"], ["container", "exec"]) else 0
    if start == 0:
        return None
    verb = words[start - 1]
    network = "bridge"
    i = start
    while i < len(words):
        word = words[i]
        if word == "--":
            i += 1
            break
        if not word.startswith("-") or word == "-":
            break
        option, eq, value = word.partition("=")
        if not eq and option in _CONTAINER_ARG and i + 1 < len(words):
            value = words[i + 1]
            i += 1
        if option in ("--network", "--net"):
            network = "host" if value == "host" else ("none" if value == "none" else "bridge")
        i += 1
    command = args[i + 1:]
    if verb == "exec":
        where = f"runs in a running container via {program} exec (network assumed bridge)"
    else:
        where = f"runs in a container started by {program} run"
    image = args[i] if verb == "run" and i < len(args) else None
    return ContainerCommand(command, network, where, image)
