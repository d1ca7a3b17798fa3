"""What language a file is in: by name first (free), then by its first line."""

from __future__ import annotations

import os
import re

from imds_lint.patterns import lazy

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from pathlib import PurePath


class Kind:
    """File kinds. Plain strings so documents of any kind can be handed around cheaply."""

    SHELL = "shell"
    PYTHON = "python"
    POWERSHELL = "powershell"
    DOCKERFILE = "dockerfile"
    TERRAFORM = "terraform"
    TERRAFORM_JSON = "terraform-json"
    # Packer HCL2 templates: the same syntax as Terraform, other blocks, other siblings.
    PACKER = "packer"
    TEMPLATE = "template"
    YAML = "yaml"
    JSON = "json"
    USER_DATA = "user-data"
    MAKEFILE = "makefile"
    JUSTFILE = "justfile"
    JAVASCRIPT = "javascript"
    TYPESCRIPT = "typescript"
    TSX = "tsx"
    GO = "go"
    JAVA = "java"
    CSHARP = "csharp"
    RUBY = "ruby"
    JENKINSFILE = "jenkinsfile"
    SYSTEMD = "systemd"
    UNKNOWN = "unknown"
    # Dependency manifests and lock files: the kind is the conventional file name,
    # which tells the manifests front-end the format.
    REQUIREMENTS = "requirements.txt"
    PYPROJECT = "pyproject.toml"
    SETUP_CFG = "setup.cfg"
    PIPFILE = "Pipfile"
    PIPFILE_LOCK = "Pipfile.lock"
    POETRY_LOCK = "poetry.lock"
    UV_LOCK = "uv.lock"
    PACKAGE_JSON = "package.json"
    PACKAGE_LOCK = "package-lock.json"
    YARN_LOCK = "yarn.lock"
    PNPM_LOCK = "pnpm-lock.yaml"
    GO_MOD = "go.mod"
    GO_SUM = "go.sum"
    POM = "pom.xml"
    GRADLE = "build.gradle"
    GRADLE_CATALOG = "libs.versions.toml"
    GEMFILE_LOCK = "Gemfile.lock"
    COMPOSER_LOCK = "composer.lock"
    MSBUILD = "csproj"
    PACKAGES_CONFIG = "packages.config"


MANIFESTS = frozenset({
    Kind.REQUIREMENTS, Kind.PYPROJECT, Kind.SETUP_CFG, Kind.PIPFILE, Kind.PIPFILE_LOCK, Kind.POETRY_LOCK,
    Kind.UV_LOCK, Kind.PACKAGE_JSON, Kind.PACKAGE_LOCK, Kind.YARN_LOCK, Kind.PNPM_LOCK, Kind.GO_MOD,
    Kind.GO_SUM, Kind.POM, Kind.GRADLE, Kind.GRADLE_CATALOG, Kind.GEMFILE_LOCK, Kind.COMPOSER_LOCK,
    Kind.MSBUILD, Kind.PACKAGES_CONFIG,
})

_MANIFEST_NAMES = {
    "pyproject.toml": Kind.PYPROJECT, "setup.cfg": Kind.SETUP_CFG, "pipfile": Kind.PIPFILE,
    "pipfile.lock": Kind.PIPFILE_LOCK, "poetry.lock": Kind.POETRY_LOCK, "uv.lock": Kind.UV_LOCK,
    "package.json": Kind.PACKAGE_JSON, "package-lock.json": Kind.PACKAGE_LOCK,
    "npm-shrinkwrap.json": Kind.PACKAGE_LOCK, "yarn.lock": Kind.YARN_LOCK, "pnpm-lock.yaml": Kind.PNPM_LOCK,
    "go.mod": Kind.GO_MOD, "go.sum": Kind.GO_SUM, "pom.xml": Kind.POM, "build.gradle": Kind.GRADLE,
    "build.gradle.kts": Kind.GRADLE, "settings.gradle": Kind.GRADLE, "settings.gradle.kts": Kind.GRADLE,
    "libs.versions.toml": Kind.GRADLE_CATALOG, "gemfile.lock": Kind.GEMFILE_LOCK,
    "composer.lock": Kind.COMPOSER_LOCK, "directory.packages.props": Kind.MSBUILD,
    "directory.build.props": Kind.MSBUILD, "packages.config": Kind.PACKAGES_CONFIG,
}
_MSBUILD_SUFFIXES = (".csproj", ".fsproj", ".vbproj")


def manifest_kind(path: PurePath | str) -> str | None:
    """The manifest format a file name promises, or None."""
    return _manifest_kind(os.path.basename(path).lower(), path)


def _manifest_kind(name: str, path: PurePath | str) -> str | None:
    if name in _MANIFEST_NAMES:
        return _MANIFEST_NAMES[name]
    if name.endswith(".txt") and (name.startswith(("requirements", "constraints"))
                                  or os.path.basename(os.path.dirname(path)).lower() == "requirements"):
        return Kind.REQUIREMENTS
    if name.endswith(_MSBUILD_SUFFIXES):
        return Kind.MSBUILD
    if name.endswith(".versions.toml"):
        return Kind.GRADLE_CATALOG
    return None


_BY_SUFFIX = {
    ".sh": Kind.SHELL, ".bash": Kind.SHELL, ".zsh": Kind.SHELL, ".ksh": Kind.SHELL,
    ".dash": Kind.SHELL, ".ash": Kind.SHELL, ".bats": Kind.SHELL, ".command": Kind.SHELL,
    ".py": Kind.PYTHON, ".pyw": Kind.PYTHON,
    ".ps1": Kind.POWERSHELL, ".psm1": Kind.POWERSHELL,
    ".dockerfile": Kind.DOCKERFILE, ".containerfile": Kind.DOCKERFILE,
    ".tf": Kind.TERRAFORM, ".hcl": Kind.TERRAFORM, ".tfvars": Kind.TERRAFORM,
    ".tpl": Kind.TEMPLATE, ".tftpl": Kind.TEMPLATE,
    ".yaml": Kind.YAML, ".yml": Kind.YAML,
    ".json": Kind.JSON,
    ".mk": Kind.MAKEFILE, ".just": Kind.JUSTFILE,
    ".js": Kind.JAVASCRIPT, ".mjs": Kind.JAVASCRIPT, ".cjs": Kind.JAVASCRIPT, ".jsx": Kind.JAVASCRIPT,
    ".ts": Kind.TYPESCRIPT, ".mts": Kind.TYPESCRIPT, ".cts": Kind.TYPESCRIPT, ".tsx": Kind.TSX,
    ".go": Kind.GO, ".java": Kind.JAVA, ".cs": Kind.CSHARP, ".rb": Kind.RUBY, ".rake": Kind.RUBY,
    ".jenkinsfile": Kind.JENKINSFILE,
    # systemd units whose Exec*= lines run commands.
    ".service": Kind.SYSTEMD,
}

_BY_NAME = {
    "dockerfile": Kind.DOCKERFILE, "containerfile": Kind.DOCKERFILE,
    "makefile": Kind.MAKEFILE, "gnumakefile": Kind.MAKEFILE, "justfile": Kind.JUSTFILE, ".justfile": Kind.JUSTFILE,
    "rakefile": Kind.RUBY, "jenkinsfile": Kind.JENKINSFILE,
    "user-data": Kind.USER_DATA, "user_data": Kind.USER_DATA, "userdata": Kind.USER_DATA,
    ".bashrc": Kind.SHELL, ".bash_profile": Kind.SHELL, ".profile": Kind.SHELL, ".zshrc": Kind.SHELL,
}

# A Dockerfile by name as docker build -f and the container-context heuristic take one
# (Dockerfile, Dockerfile.prod, api.dockerfile, Containerfile): what frontends look for near a script.
DOCKERFILE_NAME = re.compile(r"^(?:dockerfile|containerfile)(?:\..+)?$|\.(?:dockerfile|containerfile)$", re.I)
_SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "busybox"}
_SHEBANG = lazy(r"#!\s*(?P<path>\S+)(?:\s+(?:-\S+\s+)*(?P<arg>[^\s-]\S*))?")


def kind_from_name(path: PurePath | str) -> str:
    """The kind a file's name promises, or UNKNOWN when only its content can tell."""
    name = os.path.basename(path).lower()
    kind = _BY_NAME.get(name)
    if kind is not None:
        return kind
    manifest = _manifest_kind(name, path)
    if manifest is not None:
        return manifest
    if name.startswith(("dockerfile.", "containerfile.")) or name.endswith(".dockerfile"):
        return Kind.DOCKERFILE
    if name.endswith(".tf.json"):
        return Kind.TERRAFORM_JSON
    if name.endswith((".pkr.hcl", ".pkrvars.hcl")):
        return Kind.PACKER
    # os.path.splitext's suffix: from the last dot, unless only dots come before it.
    dot = name.rfind(".")
    suffix = name[dot:] if dot > 0 and name[:dot].strip(".") else ""
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if "user-data" in name or "user_data" in name or "userdata" in name:
        return Kind.USER_DATA
    return Kind.UNKNOWN


def kind_from_shebang(first_line: str) -> str | None:
    match = _SHEBANG.match(first_line.strip())
    if match is None:
        return None
    program = match.group("path").rsplit("/", 1)[-1]
    if program == "env" and match.group("arg"):
        program = match.group("arg").rsplit("/", 1)[-1]
    if program in _SHELLS:
        return Kind.SHELL
    if program.startswith("python"):
        return Kind.PYTHON
    if program in ("pwsh", "powershell"):
        return Kind.POWERSHELL
    if program in ("node", "nodejs"):
        return Kind.JAVASCRIPT
    if program == "ruby":
        return Kind.RUBY
    return None


def sniff(text: str) -> str | None:
    """The kind the content declares: a shebang, a cloud-init header, a MIME archive."""
    head = text.lstrip("\ufeff")[:512]
    first_line = head.split("\n", 1)[0].rstrip("\r")
    if first_line.startswith("#!"):
        return kind_from_shebang(first_line)
    lowered = first_line.strip().lower()
    if lowered.startswith(("#cloud-config", "#cloud-boothook", "#include", "#part-handler")):
        return Kind.USER_DATA
    if lowered.startswith(("content-type: multipart", "mime-version:")):
        return Kind.USER_DATA
    if lowered.startswith(("<powershell>", "<script>", "<persist>")):
        return Kind.USER_DATA
    return None


def classify(path: PurePath | str, text: str | None = None) -> str:
    """Name first; content decides for extensionless files and user-data.

    Templates (.tftpl, .tpl) stay templates: their front-end undoes Terraform's
    ``$${`` escapes before it hands the script inside to the shell front-end.
    """
    by_name = kind_from_name(path)
    if text is None or by_name not in (Kind.UNKNOWN, Kind.USER_DATA):
        return by_name
    by_content = sniff(text)
    if by_content is not None:
        return by_content
    # (A name like "HostnameChange-Userdata.template" says user-data; the body says CloudFormation.)
    if by_name in (Kind.UNKNOWN, Kind.USER_DATA) and str(path).lower().endswith(_TEMPLATE_SUFFIXES):
        # CloudFormation's own suffix (AWS samples and Quick Starts): JSON or YAML inside.
        head = text[:20000]
        if "AWSTemplateFormatVersion" in head or ("Resources" in head and "AWS::" in head):
            return Kind.JSON if text.lstrip("\ufeff \t\r\n").startswith("{") else Kind.YAML
    return by_name


_TEMPLATE_SUFFIXES = (".template", ".cfn", ".cform")
