"""The project's own promises about itself: CI runs the README's command, the matrix names real envs."""

from __future__ import annotations

import configparser
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def readme_command(name):
    return subprocess.run([sys.executable, str(ROOT / ".ci" / "readme_command.py"), name], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_readme_has_the_two_commands():
    run, test = readme_command("run"), readme_command("test")
    assert "pip install -c constraints.txt" in run and run.endswith("nnparity run")
    assert "pip install -c constraints.txt" in test and "pytest" in test


def test_ci_runs_the_readme_test_command_and_refuses_exit_5():
    script = (ROOT / ".ci" / "run").read_text()
    assert "readme_command.py test" in script
    assert '"$rc" -eq 5' in script


def test_every_tox_env_the_workflow_names_exists():
    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini")
    defined = {s.split(":", 1)[1] for s in tox.sections() if s.startswith("testenv:")}
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    named = re.findall(r"toxenv:\s*\[([^\]]*)\]", workflow)  # every job's matrix
    envs = {e.strip() for group in named for e in group.split(",")}
    assert envs and envs <= defined, envs - defined
    assert set(tox["tox"]["envlist"].replace(" ", "").split(",")) <= defined


def test_constraints_pin_the_cpu_torch():
    pins = (ROOT / "constraints.txt").read_text()
    assert re.search(r"^torch==\d", pins, re.M)
    tox = (ROOT / "tox.ini").read_text()
    assert "-c {toxinidir}/constraints.txt" in tox
