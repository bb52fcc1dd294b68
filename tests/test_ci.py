"""`.ci/run`: a fresh venv every time, the package with its dev extras, then exactly the
README's test command; any failing step fails the run."""

from __future__ import annotations

import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[list[str]]:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [shlex.split(line, comments=True) for line in lines if shlex.split(line, comments=True)]


def test_ci_builds_a_fresh_venv_and_runs_the_readme_test_command():
    commands = _commands()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    venv = next(c for c in commands if c[:3] == ["python3", "-m", "venv"])
    assert (
        commands[0],
        sorted(venv),  # --clear: a venv left by an earlier run is emptied, not reused
        ["python", "-m", "pip", "install", "--quiet", "-e", ".[dev]"] in commands,
        commands[-1],
        "python -m pip install -e '.[dev]' && python -m pytest" in readme,
    ) == (
        ["set", "-euo", "pipefail"],
        sorted(["python3", "-m", "venv", "--clear", ".venv"]),
        True,
        ["python", "-m", "pytest"],
        True,
    )
