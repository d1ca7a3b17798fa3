"""Dependency versions: the table, version and range semantics, manifest readers, fixes."""

from __future__ import annotations

from pathlib import Path, PurePath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imds_lint import prefilter
from imds_lint.config import Settings
from imds_lint.dependencies import Constraint, interval, pep440, semver_range
from imds_lint.engine import Linter
from imds_lint.kinds import MANIFESTS, Kind, classify
from imds_lint.model import Applicability
from imds_lint.versions import TABLE, Role, compare, lookup
from tests.helpers import codes, fix, lint


def test_table_has_every_documented_minimum():
    documented = {("pypi", "awscli"): "1.16.289", ("pypi", "botocore"): "1.13.25", ("pypi", "boto3"): "1.12.6",
                  ("npm", "aws-sdk"): "2.722.0", ("go", "github.com/aws/aws-sdk-go"): "1.25.38",
                  ("go", "github.com/aws/aws-sdk-go-v2"): "0.19.0", ("maven", "com.amazonaws:aws-java-sdk-core"): "1.11.678",
                  ("maven", "software.amazon.awssdk:s3"): "2.10.21", ("rubygems", "aws-sdk-core"): "3.79.0",
                  ("packagist", "aws/aws-sdk-php"): "3.147.7", ("nuget", "awssdk.core"): "3.3.634.1",
                  ("psgallery", "AWSPowerShell"): "4.0.1.0", ("cpp", "aws-sdk-cpp"): "1.7.229",
                  ("deb", "cloud-utils"): "0.32", ("rpm", "ec2-utils"): "1.1-1", ("rpm", "amazon-ec2-net-utils"): "1.3",
                  ("pypi", "ec2_metadata"): "2.2.0", ("datadog", "datadog-agent"): "7.64.0"}
    for (ecosystem, name), minimum in documented.items():
        row = lookup(ecosystem, name)
        assert row is not None and row.minimum == minimum, (ecosystem, name)
    assert lookup("pypi", "boto").minimum is None and lookup("pypi", "boto").role == Role.LEGACY
    assert all(row.source for row in TABLE)
    assert lookup("maven", "com.amazonaws:aws-lambda-java-core") is None
    assert lookup("pypi", "boto3-stubs") is None


@pytest.mark.parametrize("ecosystem, a, b, expected", [
    ("pypi", "1.16.289", "1.16.3", 1),
    ("pypi", "1.13.25rc1", "1.13.25", -1),
    ("npm", "2.722.0-beta.1", "2.722.0", -1),
    ("go", "1.25.38-0.20191120225600-6b8c0e4a4c1b", "1.25.38", -1),
    ("go", "v1.25.39-0.20191201000000-abcdefabcdef", "1.25.38", 1),
    ("maven", "2.10.21", "2.10.3", 1),
    ("nuget", "3.3.634.1", "3.3.634", 1),
    ("deb", "0.31-0ubuntu1", "0.32", -1),
    ("deb", "1:7.64.0-1", "7.64.0", 0),
    ("rpm", "1.0-3", "1.1-1", -1),
    ("rpm", "1.1-2", "1.1-1", 1),
])
def test_compare(ecosystem, a, b, expected):
    assert compare(ecosystem, a, b) == expected


@pytest.mark.parametrize("spec, constraint", [
    ("==1.16.0", Constraint(exact="1.16.0")),
    ("~=1.16.0", Constraint(lower="1.16.0", upper="1.17", upper_follows_lower=True)),
    (">=1.9,<2", Constraint(lower="1.9", upper="2")),
    ("==1.16.*", Constraint(lower="1.16.0", upper="1.17", upper_follows_lower=True)),
    ("<1.10", Constraint(upper="1.10")),
])
def test_pep440(spec, constraint):
    assert pep440(spec) == constraint


@pytest.mark.parametrize("spec, lower, upper, exact", [
    ("^2.600.0", "2.600.0", "3", None),
    ("~2.600.0", "2.600.0", "2.601", None),
    ("^0.18.0", "0.18.0", "0.19", None),
    ("2.600.0", None, None, "2.600.0"),
    (">=2.0.0 <3", "2.0.0", "3", None),
    ("2.x", "2.0.0", "3", None),
    ("^1.0.0 || ^2.800.0", "1.0.0", None, None),
])
def test_semver_ranges(spec, lower, upper, exact):
    constraint, _ = semver_range(spec)
    assert (constraint.lower, constraint.upper, constraint.exact) == (lower, upper, exact)


def test_maven_intervals():
    assert interval("[1.11.0,1.12.0)")[0] == Constraint(lower="1.11.0", upper="1.12.0")
    assert interval("[1.11.500]")[0] == Constraint(exact="1.11.500")
    assert interval("${aws.version}") is None


@pytest.mark.parametrize("name, kind", [
    ("requirements-dev.txt", Kind.REQUIREMENTS), ("requirements/prod.txt", Kind.REQUIREMENTS),
    ("constraints.txt", Kind.REQUIREMENTS), ("package.json", Kind.PACKAGE_JSON), ("pnpm-lock.yaml", Kind.PNPM_LOCK),
    ("build.gradle.kts", Kind.GRADLE), ("gradle/libs.versions.toml", Kind.GRADLE_CATALOG),
    ("src/App/App.csproj", Kind.MSBUILD), ("Gemfile.lock", Kind.GEMFILE_LOCK), ("notes.txt", Kind.UNKNOWN),
    ("config.json", Kind.JSON),
])
def test_manifest_kinds(name, kind):
    assert classify(PurePath(name), "") == kind


def test_prefilter_admits_manifests_only_when_they_name_a_package():
    assert prefilter.is_candidate(b'{"dependencies": {"aws-sdk": "^2.600.0"}}', Kind.PACKAGE_JSON)
    assert not prefilter.is_candidate(b'{"dependencies": {"express": "^4"}}', Kind.PACKAGE_JSON)
    assert not prefilter.is_candidate(b'{"dependencies": {"aws-sdk": "^2"}}', Kind.JSON)
    assert all(kind in prefilter.KIND_NEEDLES for kind in MANIFESTS)


def test_exact_pin_is_error_and_range_is_warning():
    findings = lint("awscli==1.16.0\nboto3>=1.9\n", Kind.REQUIREMENTS)
    assert [(f.start.line, f.severity.value) for f in findings] == [(1, "error"), (2, "warning")]
    assert "1.16.0" in findings[0].message and "1.16.289" in findings[0].message


def test_pin_edit_is_safe_only_without_hashes_or_locks():
    plain = lint("awscli==1.16.0\n", Kind.REQUIREMENTS)[0]
    hashed = lint("awscli==1.16.0 --hash=sha256:00\n", Kind.REQUIREMENTS)[0]
    npm = lint('{"dependencies": {"aws-sdk": "2.600.0"}}', Kind.PACKAGE_JSON)[0]
    lock = lint('{"packages": {"node_modules/aws-sdk": {"version": "2.600.0"}}}', Kind.PACKAGE_LOCK)[0]
    assert plain.fix.applicability is Applicability.SAFE
    assert hashed.fix.applicability is Applicability.UNSAFE
    assert npm.fix.applicability is Applicability.UNSAFE
    assert lock.fix is None and "locked at 2.600.0" in lock.message


def test_range_that_excludes_every_supported_version_gets_no_fix():
    finding = lint("awscli>=1.10,<1.16\n", Kind.REQUIREMENTS)[0]
    assert finding.severity.value == "error" and finding.fix is None


def test_unpinned_dependency_is_not_flagged():
    assert lint("awscli\nboto3\n", Kind.REQUIREMENTS) == []


def test_maven_property_fix_rewrites_the_property():
    pom = ("<project><properties><aws.version>1.11.500</aws.version></properties><dependencies><dependency>"
           "<groupId>com.amazonaws</groupId><artifactId>aws-java-sdk-s3</artifactId><version>${aws.version}</version>"
           "</dependency></dependencies></project>\n")
    findings = lint(pom, Kind.POM)
    assert codes(findings) == ["IMDS401"] and "via ${aws.version}" in findings[0].message
    assert fix(pom, Kind.POM, unsafe=True) == pom.replace("1.11.500", "1.11.678")


def test_go_pseudo_version_below_minimum_is_flagged_and_fix_keeps_v_prefix():
    text = "module m\n\nrequire github.com/aws/aws-sdk-go v1.25.38-0.20191120225600-6b8c0e4a4c1b\n"
    assert codes(lint(text, Kind.GO_MOD)) == ["IMDS401"]
    assert "v1.25.38\n" in fix(text, Kind.GO_MOD, unsafe=True)


def test_xml_with_entities_is_refused_not_expanded():
    text = '<!DOCTYPE x [<!ENTITY a "aaaa">]><Project><PackageReference Include="AWSSDK.Core" Version="&a;"/></Project>'
    assert codes(lint(text, Kind.MSBUILD)) == ["IMDS001"]


def test_requirements_include_is_followed_relative_to_the_file(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "requirements.txt").write_text("-r ../common.in\nrequests\n")
    (tmp_path / "common.in").write_text("botocore==1.12.0\n")
    result = Linter(Settings(root=tmp_path)).lint_file(tmp_path / "sub" / "requirements.txt", "sub/requirements.txt")
    assert [(f.code, f.start.line) for f in result.findings] == [("IMDS401", 1)]
    assert "from ../common.in" in result.findings[0].message


def test_datadog_pin_is_fine_when_imdsv2_is_preferred():
    pinned = "apt-get install -y datadog-agent=1:7.50.0-1\n"
    assert codes(lint(pinned)) == ["IMDS403"]
    assert codes(lint("export DD_EC2_PREFER_IMDSV2=true\n" + pinned)) == []


def test_two_pins_in_one_command_are_two_findings():
    findings = lint("pip install awscli==1.16.0 botocore==1.12.0\n")
    assert [f.code for f in findings] == ["IMDS401", "IMDS401"]
    assert fix("pip install awscli==1.16.0 botocore==1.12.0\n") == "pip install awscli==1.16.289 botocore==1.13.25\n"


@given(st.text(max_size=300), st.sampled_from(sorted(MANIFESTS)))
def test_readers_never_raise(text, kind):
    linter = Linter(Settings())
    from tests.helpers import source_of

    _, notes = linter.lint_text("aws-sdk boto " + text, kind, source_of("aws-sdk boto " + text), "x")
    assert not any("internal error" in n for n in notes), notes
