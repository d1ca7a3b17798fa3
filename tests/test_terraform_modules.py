"""Module lookups that parse only the sibling files whose text holds the name give the answers of
parsing every sibling: generated modules of several files, checked for a bounded time."""

from __future__ import annotations

import random
import time

from imds_lint.config import Settings
from imds_lint.engine import Linter
from imds_lint.hcl import module as hcl_module
from imds_lint.hcl import tree as hcl_tree

NAMES = ["web", "workers", "app", "web2", "nodes", "batch"]


def _file(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        name, other = rng.choice(NAMES), rng.choice(NAMES)
        choice = rng.random()
        tokens = rng.choice(['"required"', '"optional"', "var.tokens", "local.tokens", f"var.{other}_tokens"])
        if choice < 0.2:
            default = rng.choice(['"required"', '"optional"', "null"])
            parts.append(f'variable "{rng.choice(["tokens", name + "_tokens"])}" {{\n  default = {default}\n}}\n')
        elif choice < 0.35:
            value = rng.choice(['"required"', '"optional"'])
            parts.append(f'locals {{\n  tokens = {value}\n  {name}_tokens = var.tokens\n}}\n')
        elif choice < 0.6:
            options = f"  metadata_options {{\n    http_tokens = {tokens}\n  }}\n" if rng.random() < 0.6 else ""
            parts.append(f'resource "aws_launch_template" "{name}" {{\n  image_id = "ami-1"\n{options}}}\n')
        elif choice < 0.75:
            parts.append(f'resource "aws_eks_node_group" "{name}" {{\n  launch_template {{\n'
                         f'    id = aws_launch_template.{other}.id\n  }}\n}}\n')
        else:
            options = f"  metadata_options {{\n    http_tokens = {tokens}\n  }}\n" if rng.random() < 0.3 else ""
            template = f"  launch_template {{\n    id = aws_launch_template.{other}.id\n  }}\n" \
                if rng.random() < 0.6 else ""
            parts.append(f'resource "aws_instance" "{name}" {{\n  ami = "ami-1"\n{template}{options}}}\n')
    return "".join(parts)


def _findings(linter: Linter, folder, names) -> list:
    out = []
    for name in names:
        result = linter.lint_file(folder / name, name)
        out.append((name, [(f.code, f.message, f.start, f.fix) for f in result.findings],
                    [e.message for e in result.errors]))
    return out


def test_filtered_sibling_lookups_equal_parsing_every_sibling(tmp_path, monkeypatch):
    rng = random.Random(7)
    real = hcl_module.HclModule._files

    deadline = time.monotonic() + 15.0
    modules = lookups = 0
    while time.monotonic() < deadline or modules < 40:
        folder = tmp_path / f"m{modules}"
        folder.mkdir()
        names = [f"f{i}.tf" for i in range(rng.randint(2, 5))]
        for name in names:
            (folder / name).write_text(_file(rng))
        monkeypatch.setattr(hcl_module.HclModule, "_files", real)
        filtered = _findings(Linter(Settings(root=tmp_path)), folder, names)
        monkeypatch.setattr(hcl_module.HclModule, "_files", lambda self, *words: real(self))
        every = _findings(Linter(Settings(root=tmp_path)), folder, names)
        assert filtered == every, [(n, (folder / n).read_text()) for n in names]
        modules += 1
        lookups += sum(len(f) for _, f, _ in filtered)
    assert lookups > 50


def test_a_sibling_without_the_name_is_never_parsed(tmp_path, monkeypatch):
    (tmp_path / "a.tf").write_text('resource "aws_instance" "web" {\n  launch_template {\n'
                                   '    id = aws_launch_template.lt.id\n  }\n}\n')
    (tmp_path / "b.tf").write_text('resource "aws_launch_template" "lt" {\n  metadata_options {\n'
                                   '    http_tokens = "required"\n  }\n}\n')
    (tmp_path / "c.tf").write_text('resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n')
    parsed = []
    real = hcl_tree.HclFile.__init__

    def counting(self, text, own):
        parsed.append(text.split('"')[3])
        real(self, text, own)

    monkeypatch.setattr(hcl_tree.HclFile, "__init__", counting)
    result = Linter(Settings(root=tmp_path)).lint_file(tmp_path / "a.tf", "a.tf")
    assert "IMDS301" not in [f.code for f in result.findings]  # enforced by its launch template
    assert parsed == ["web", "lt"]  # c.tf names neither aws_launch_template nor lt


def test_container_and_node_signs_word_gates_give_the_patterns_answer():
    from pathlib import Path

    from imds_lint.frontends import iac

    def by_patterns(signs, text):
        return next((reason for _, pattern, reason in signs if pattern.search(text)), None)

    snippets = ["/etc/eks/bootstrap.sh my-cluster", "bootstrap.sh --kubelet-extra-args", "nodeadm init",
                "kind: NodeConfig\napiVersion: node.eks.aws/v1alpha1", "ECS_CLUSTER=prod", "curl -sfL get.k3s.io | sh",
                "kubeadm join 10.0.0.1:6443", "snap install microk8s", "rke2 server", "systemctl enable --now docker",
                "service docker start", "yum install -y docker", "apt-get -y install containerd", "get.docker.com",
                "docker run -d nginx", "docker-compose up -d", "podman run x", "nodeup --conf", "kops-configuration",
                "/opt/kops/bin", "kubernetes.io/cluster/prod", "k8s.io/role/node", "alpha.eksctl.io/nodegroup-name",
                "eks:nodegroup-name", "/etc/ecs/ecs.config", "/aws/service/eks/optimized-ami", "amazon-eks-node-1.29",
                "amzn2-ami-ecs-hvm", "echo hello", "apt-get install -y nginx", "DOCKER", "bootstrap", "ecs"]
    rng = random.Random(3)
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in Path("fixtures").rglob("*") if p.is_file()]
    for _ in range(3000):
        texts.append(" ".join(rng.choice(snippets) for _ in range(rng.randint(1, 4))))
    for text in texts:
        assert iac.container_signs(text) == by_patterns(iac._CONTAINER_SIGNS, text), text
        assert iac.node_signs(text) == by_patterns(iac._NODE_SIGNS, text), text
