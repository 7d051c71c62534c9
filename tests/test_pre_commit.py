"""The ``createimage-contract-lint`` hook of ``.pre-commit-hooks.yaml``, run by pre-commit itself
in a temporary git repository: a bad payload fails, a good one passes.

pre-commit builds a virtualenv and pip-installs this project into it, which takes seconds (and
the network, for the dependencies, unless pip's cache has them): the cases are few, and the
commit case shares one PRE_COMMIT_HOME. ``try-repo`` always installs into a store of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOOK = "createimage-contract-lint"
GOOD = (ROOT / "examples" / "valid" / "minimal.json").read_text(encoding="utf-8")
BAD = (ROOT / "examples" / "invalid" / "name.length.form").read_text(encoding="utf-8")
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


@pytest.fixture(scope="session")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of every git and pre-commit call: one PRE_COMMIT_HOME for the session,
    and no git configuration of the user's (a core.hooksPath would stop ``pre-commit
    install``) nor of an outer git command (when the tests run in a hook)."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    (home / "gitconfig").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(GIT_IDENTITY)
    env.update(
        {
            "PRE_COMMIT_HOME": str(home / "store"),
            "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
    )
    return env


def run(
    args: list[str], cwd: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def pre_commit(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "pre_commit", *args], cwd, env, check=False)


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, environment: dict[str, str]) -> Path:
    """This project as it is on disk, committed to a repository of its own: pre-commit installs
    a hook repository from a commit, and the checkout's uncommitted and new files are what is
    under test."""
    repo = tmp_path_factory.mktemp("hook-repo")
    listed = run(["git", "ls-files", "-z", "-co", "--exclude-standard"], ROOT, environment)
    for name in filter(None, listed.stdout.split("\0")):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    commit_all(repo, environment)
    return repo


def commit_all(repo: Path, env: dict[str, str]) -> None:
    run(["git", "init", "-q"], repo, env)
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-q", "-m", "snapshot"], repo, env)


def user_repo(folder: Path, env: dict[str, str]) -> Path:
    """A user's repository: a good payload, a bad one, and a file the hook leaves alone."""
    run(["git", "init", "-q"], folder, env)
    (folder / "requests").mkdir()
    (folder / "requests" / "good.json").write_text(GOOD)
    (folder / "requests" / "bad.form").write_text(BAD)
    (folder / "notes.txt").write_text("Action=CreateImage\n")
    return folder


def test_try_repo_fails_on_the_bad_payload(
    tmp_path: Path, hook_repo: Path, environment: dict[str, str]
) -> None:
    repo = user_repo(tmp_path, environment)
    files = ["requests/good.json", "requests/bad.form", "notes.txt"]
    done = pre_commit(
        "try-repo", str(hook_repo), HOOK, "--files", *files, cwd=repo, env=environment
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Failed" in output
    assert "requests/bad.form:/body/Name: error InvalidAMIName.Malformed name.length " in output
    # good.json was linted too, notes.txt was not: the hook's files pattern.
    assert "1 error, 0 warnings in 2 inputs; 1 invalid." in output


def test_a_bad_payload_fails_the_commit_and_a_good_one_passes(
    tmp_path: Path, hook_repo: Path, environment: dict[str, str]
) -> None:
    repo = user_repo(tmp_path, environment)
    head = run(["git", "rev-parse", "HEAD"], hook_repo, environment).stdout.strip()
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo.as_posix()}\n    rev: {head}\n"
        f"    hooks:\n      - id: {HOOK}\n"
    )
    assert pre_commit("install", cwd=repo, env=environment).returncode == 0
    run(
        ["git", "add", ".pre-commit-config.yaml", "requests/good.json", "notes.txt"],
        repo,
        env=environment,
    )
    good = run(["git", "commit", "-m", "good"], repo, environment, check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "createimage-contract lint" in good.stdout + good.stderr
    run(["git", "add", "requests/bad.form"], repo, environment)
    bad = run(["git", "commit", "-m", "bad"], repo, environment, check=False)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "requests/bad.form:/body/Name: error " in bad.stdout + bad.stderr
    log = run(["git", "log", "--format=%s"], repo, environment).stdout.split()
    assert log == ["good"]
