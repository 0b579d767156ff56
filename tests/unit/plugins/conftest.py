"""A real git repository for the compose app reader's tests (module_utils and modules)."""

import os
import subprocess

import pytest

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}


def run_git(directory, *args):
    return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, check=True,
                          timeout=30, env=dict(os.environ, **GIT_ENV)).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    """A repository with two commits on main, a branch, a lightweight and an annotated tag."""
    source = tmp_path / "source"
    source.mkdir()
    run_git(source, "init", "--quiet", "--initial-branch", "main")
    (source / "compose.yaml").write_text("services: {}\n")
    run_git(source, "add", "compose.yaml")
    run_git(source, "commit", "--quiet", "-m", "one")
    run_git(source, "tag", "v1")
    run_git(source, "tag", "--annotate", "-m", "release", "v1-annotated")
    run_git(source, "branch", "stable")
    (source / "compose.yaml").write_text("services: {web: {image: nginx}}\n")
    run_git(source, "commit", "--quiet", "--all", "-m", "two")
    return source


@pytest.fixture
def git():
    """git in a directory: what it printed."""
    return run_git
