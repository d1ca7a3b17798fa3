"""Reading the argv of HTTP clients (curl, wget, HTTPie) into request parts.

Pure functions over already-resolved words, so they are easy to test and are
shared by every front-end that meets a shell command (Dockerfile RUN, Python
``subprocess``, CI ``run:`` steps ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# curl options that take an argument (curl never accepts --opt=value).
_CURL_SHORT_ARG = set("AbcCdDeEFHKmoPQrtTuUwxXyYz")
_CURL_LONG_ARG = {
    "--abstract-unix-socket", "--alt-svc", "--aws-sigv4", "--cacert", "--capath", "--cert",
    "--cert-type", "--ciphers", "--config", "--connect-timeout", "--connect-to", "--continue-at",
    "--cookie", "--cookie-jar", "--create-file-mode", "--crlfile", "--curves", "--data",
    "--data-ascii", "--data-binary", "--data-raw", "--data-urlencode", "--delegation",
    "--dns-interface", "--dns-ipv4-addr", "--dns-ipv6-addr", "--dns-servers", "--doh-url",
    "--dump-header", "--egd-file", "--engine", "--etag-compare", "--etag-save",
    "--expect100-timeout", "--form", "--form-string", "--ftp-account", "--ftp-alternative-to-user",
    "--ftp-method", "--ftp-port", "--ftp-ssl-ccc-mode", "--happy-eyeballs-timeout-ms",
    "--haproxy-clientip", "--header", "--hostpubmd5", "--hostpubsha256", "--hsts", "--interface",
    "--ip-tos", "--json", "--keepalive-time", "--key", "--key-type", "--krb", "--libcurl",
    "--limit-rate", "--local-port", "--login-options", "--mail-auth", "--mail-from", "--mail-rcpt",
    "--max-filesize", "--max-redirs", "--max-time", "--netrc-file", "--noproxy", "--oauth2-bearer",
    "--output", "--output-dir", "--parallel-max", "--pass", "--pinnedpubkey", "--preproxy",
    "--proto", "--proto-default", "--proto-redir", "--proxy", "--proxy-cacert", "--proxy-capath",
    "--proxy-cert", "--proxy-cert-type", "--proxy-ciphers", "--proxy-crlfile", "--proxy-header",
    "--proxy-key", "--proxy-key-type", "--proxy-pass", "--proxy-pinnedpubkey",
    "--proxy-service-name", "--proxy-tls13-ciphers", "--proxy-tlsauthtype", "--proxy-tlspassword",
    "--proxy-tlsuser", "--proxy-user", "--proxy1.0", "--pubkey", "--quote", "--random-file",
    "--range", "--rate", "--referer", "--request", "--request-target", "--resolve", "--retry",
    "--retry-delay", "--retry-max-time", "--sasl-authzid", "--service-name", "--socks4",
    "--socks4a", "--socks5", "--socks5-gssapi-service", "--socks5-hostname", "--speed-limit",
    "--speed-time", "--stderr", "--telnet-option", "--time-cond", "--tls-max", "--tls13-ciphers",
    "--tlsauthtype", "--tlspassword", "--tlsuser", "--trace", "--trace-ascii", "--trace-config",
    "--unix-socket", "--upload-file", "--url", "--url-query", "--user", "--user-agent",
    "--variable", "--write-out", "--ech", "--ip-tos", "--vlan-priority", "--expand-url",
}
_CURL_DATA = {"-d", "--data", "--data-ascii", "--data-binary", "--data-raw", "--data-urlencode",
              "-F", "--form", "--form-string", "--json"}

_WGET_SHORT_ARG = set("aBeiIoOPQtTUwXDARlY")
_WGET_LONG_ARG = {
    "--header", "--method", "--output-document", "--post-data", "--post-file", "--body-data",
    "--body-file", "--timeout", "--tries", "--user-agent", "--output-file", "--append-output",
    "--user", "--password", "--input-file", "--directory-prefix", "--quota", "--wait",
    "--execute", "--dns-timeout", "--connect-timeout", "--read-timeout", "--limit-rate",
    "--bind-address", "--level", "--referer", "--load-cookies", "--save-cookies",
    "--ca-certificate", "--certificate", "--private-key", "--proxy-user", "--proxy-password",
    "--http-user", "--http-password", "--waitretry", "--accept", "--reject", "--domains",
}

_HTTPIE_LONG_ARG = {
    "--timeout", "--auth", "--auth-type", "--output", "--print", "--session", "--session-read-only",
    "--verify", "--cert", "--cert-key", "--cert-key-pass", "--proxy", "--pretty", "--style",
    "--format-options", "--max-redirects", "--max-headers", "--ssl", "--ciphers",
    "--default-scheme", "--boundary", "--response-charset", "--response-mime", "--unix-socket",
    "--history-print", "--raw",
}
_HTTPIE_SHORT_ARG = set("aAopsP")
_HTTP_METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"}


@dataclass
class Arg:
    """One argv word: its resolved text (unknown parts as ``*``) and a handle to its source."""

    value: str
    ref: object = None
    literal: bool = True
    # A word the shell made by splitting an expansion has no source of its own: the word it came from.
    origin: object = None


@dataclass
class HeaderArg:
    text: str
    refs: tuple  # the argv words that spell the header (flag and value)
    value_ref: object = None


@dataclass
class ClientCall:
    """What a client invocation says about the request(s) it sends."""

    client: str
    urls: list[Arg] = field(default_factory=list)
    method: str | None = "GET"
    method_explicit: bool = False
    method_refs: tuple = ()
    headers: list[HeaderArg] = field(default_factory=list)
    headers_unknown: bool = False
    sends: bool = True


def _split_short(word: str, with_arg: set[str]) -> tuple[list[str], str | None, bool]:
    """Expand a short-option cluster such as ``-sSfX``: flags, the one taking an argument, inline arg."""
    flags: list[str] = []
    body = word[1:]
    for i, ch in enumerate(body):
        flags.append(ch)
        if ch in with_arg:
            rest = body[i + 1:]
            return flags, ch, bool(rest)
    return flags, None, False


def parse_curl(args: list[Arg]) -> ClientCall:
    call = ClientCall("curl")
    method_from_flag: str | None = None
    has_data = force_get = False
    i = 0
    after_double_dash = False
    while i < len(args):
        arg = args[i]
        word = arg.value
        if after_double_dash or not word.startswith("-") or word == "-":
            call.urls.append(arg)
            i += 1
            continue
        if word == "--":
            after_double_dash = True
            i += 1
            continue
        value_arg: Arg | None = None
        option = word
        if word.startswith("--"):
            if word in _CURL_LONG_ARG and i + 1 < len(args):
                value_arg = args[i + 1]
                i += 1
            i += 1
        else:
            flags, takes, inline = _split_short(word, _CURL_SHORT_ARG)
            if "I" in flags:
                method_from_flag = method_from_flag or "HEAD"
            if "G" in flags:
                force_get = True
            if takes is not None:
                option = "-" + takes
                if inline:
                    value_arg = Arg(word[word.index(takes) + 1:], arg.ref, arg.literal)
                elif i + 1 < len(args):
                    value_arg = args[i + 1]
                    i += 1
            i += 1
        refs = (arg,) if value_arg is None or value_arg.ref is arg.ref else (arg, value_arg)
        if option in ("-X", "--request") and value_arg is not None:
            call.method = value_arg.value.upper()
            call.method_explicit = True
            call.method_refs = refs
        elif option in ("-H", "--header") and value_arg is not None:
            if value_arg.value.startswith("@"):
                call.headers_unknown = True
            else:
                call.headers.append(HeaderArg(value_arg.value, refs, value_arg))
        elif option in ("-K", "--config"):
            call.headers_unknown = True
        elif option in ("-T", "--upload-file"):
            method_from_flag = "PUT"
        elif option in _CURL_DATA:
            has_data = True
        elif option == "--url" and value_arg is not None:
            call.urls.append(value_arg)
        elif option in ("--head",):
            method_from_flag = "HEAD"
        elif option == "--get":
            force_get = True
    if not call.method_explicit:
        if method_from_flag:
            call.method = method_from_flag
        elif has_data and not force_get:
            call.method = "POST"
    return call


def parse_wget(args: list[Arg]) -> ClientCall:
    call = ClientCall("wget")
    has_post = False
    i = 0
    while i < len(args):
        arg = args[i]
        word = arg.value
        if not word.startswith("-") or word == "-":
            call.urls.append(arg)
            i += 1
            continue
        value: Arg | None = None
        option = word
        if word.startswith("--"):
            if "=" in word:
                option, _, rest = word.partition("=")
                value = Arg(rest, arg.ref, arg.literal)
            elif word in _WGET_LONG_ARG and i + 1 < len(args):
                value = args[i + 1]
                i += 1
            i += 1
        else:
            flags, takes, inline = _split_short(word, _WGET_SHORT_ARG)
            if takes is not None:
                option = "-" + takes
                if inline:
                    value = Arg(word[word.index(takes) + 1:], arg.ref, arg.literal)
                elif i + 1 < len(args):
                    value = args[i + 1]
                    i += 1
            i += 1
        refs = (arg,) if value is None or value.ref is arg.ref else (arg, value)
        if option == "--header" and value is not None:
            call.headers.append(HeaderArg(value.value, refs, value))
        elif option == "--method" and value is not None:
            call.method = value.value.upper()
            call.method_explicit = True
            call.method_refs = refs
        elif option in ("--post-data", "--post-file"):
            has_post = True
        elif option in ("-i", "--input-file"):
            call.headers_unknown = True
        elif option in ("-e", "--execute") and value is not None and "header" in value.value.lower():
            call.headers_unknown = True
    if has_post and not call.method_explicit:
        call.method = "POST"
    return call


def _httpie_item(word: str) -> tuple[str, str, str] | None:
    """Split an HTTPie request item into (key, separator, value), or None if it is not one."""
    best: tuple[int, int, str] | None = None
    for sep in (":=@", "=@", "==", ":=", "@", "=", ":", ";"):
        pos = word.find(sep)
        if pos > 0 and (best is None or pos < best[0] or (pos == best[0] and len(sep) > best[1])):
            best = (pos, len(sep), sep)
    if best is None:
        return None
    pos, length, sep = best
    return word[:pos], sep, word[pos + length:]


def parse_httpie(args: list[Arg], program: str) -> ClientCall:
    call = ClientCall("httpie")
    positional: list[Arg] = []
    i = 0
    while i < len(args):
        arg = args[i]
        word = arg.value
        if word.startswith("-") and not positional:
            if word == "--offline":
                call.sends = False
            if word.startswith("--"):
                if "=" not in word and word in _HTTPIE_LONG_ARG and i + 1 < len(args):
                    i += 1
            elif len(word) == 2 and word[1] in _HTTPIE_SHORT_ARG and i + 1 < len(args):
                i += 1
            i += 1
            continue
        positional.append(arg)
        i += 1
    if positional and positional[0].value.upper() in _HTTP_METHODS and len(positional) > 1:
        call.method = positional[0].value.upper()
        call.method_explicit = True
        call.method_refs = (positional[0],)
        positional = positional[1:]
    if not positional:
        return call
    url, items = positional[0], positional[1:]
    scheme = "https://" if program in ("https", "xhs") else "http://"
    if url.value.startswith(":"):
        url = Arg("http://localhost" + url.value[1:], url.ref, url.literal)
    elif "://" not in url.value:
        url = Arg(scheme + url.value, url.ref, url.literal)
    call.urls.append(url)
    has_data = False
    for item in items:
        parsed = _httpie_item(item.value)
        if parsed is None:
            continue
        key, sep, value = parsed
        if sep in (":", ";"):
            call.headers.append(HeaderArg(f"{key}: {value}", (item,), item))
        elif sep in ("=", ":=", "=@", ":=@", "@"):
            has_data = True
    if has_data and not call.method_explicit:
        call.method = "POST"
    return call


def split_header(text: str) -> tuple[str, str | None]:
    name, sep, value = text.partition(":")
    return name.strip(), value.strip() if sep else None


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
