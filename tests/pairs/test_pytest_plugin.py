"""nnparity's pytest plugin from a fresh virtualenv, in a project that is not nnparity.

The virtualenv is made without pip; a path file puts this environment's packages (torch, Keras, pytest,
pip, setuptools) behind its own, and nnparity is installed into it from this checkout (editable, no
dependencies), so pytest there finds the plugin through the ``pytest11`` entry point of that install,
not through anything of this session. A project in a temporary folder uses the fixture.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from frameworks import missing_reason

ROOT = Path(__file__).resolve().parents[2]

PORT_TESTS = '''
import sys

import numpy as np
import torch
from torch import nn
import keras


def pair(keras_hidden_activation):
    torch.manual_seed(0)
    tm = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    km = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation=keras_hidden_activation),
                           keras.layers.Dense(1, activation="sigmoid")])
    X = np.random.default_rng(0).normal(size=(8, 2))
    return tm, km, X, (X[:, :1] > 0).astype(float)


OPTIONS = dict(torch_loss=nn.BCELoss(), keras_loss=keras.losses.BinaryCrossentropy(),
               torch_optimizer=lambda p: torch.optim.SGD(p, lr=0.1), keras_optimizer=keras.optimizers.SGD(0.1))


def test_port(nnparity_compare, nnparity_dtype):
    result = nnparity_compare(*pair("tanh"), **OPTIONS)
    assert (result.status, result.dtype, result.steps) == ("passed", nnparity_dtype, 3)


def test_port_missing_its_tanh(nnparity_compare):
    nnparity_compare(*pair(None), **OPTIONS)
'''

UNUSED_TESTS = '''
import sys


def test_the_plugin_imports_no_framework():
    assert not {"torch", "keras", "tensorflow", "nnparity.pairs"} & set(sys.modules)
'''


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory) -> Path:
    """A fresh virtualenv with nnparity installed from this checkout, and this environment's packages behind it."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # plain paths: this environment's own .pth files (its editable nnparity) are not run there
    Path(purelib, "outer_environment.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "--ignore-installed", "--disable-pip-version-check", "-e", str(ROOT)],
                   check=True, timeout=120, env=_env(), cwd=venv.parent)
    return python


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", TF_CPP_MIN_LOG_LEVEL="2")
    return env


def _pytest(python: Path, project: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:xdist",
                           "-W", "ignore::DeprecationWarning", *args], cwd=project, env=_env(), capture_output=True,
                          text=True, timeout=240)


def _project(tmp_path: Path, tests: str) -> Path:
    project = tmp_path / "someone_elses_port"
    project.mkdir()
    (project / "test_port.py").write_text(textwrap.dedent(tests))
    return project


def test_the_options_appear_in_another_projects_help(fresh_python, tmp_path):
    out = _pytest(fresh_python, _project(tmp_path, UNUSED_TESTS), "--help")
    assert out.returncode == 0, out.stderr
    assert "--nnparity-dtype={float64,float32}" in out.stdout and "--nnparity-steps=N" in out.stdout
    assert "repeatable: each test that uses it runs once per dtype" in " ".join(out.stdout.split())  # unwrapped


def test_a_session_that_does_not_use_the_fixture_imports_no_framework(fresh_python, tmp_path):
    out = _pytest(fresh_python, _project(tmp_path, UNUSED_TESTS), "-q")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout


@pytest.mark.skipif(bool(missing_reason("torch") or missing_reason("keras")),
                    reason=str(missing_reason("torch") or missing_reason("keras")))  # the port's models need both
def test_the_fixture_passes_a_port_and_fails_a_broken_one_with_the_report(fresh_python, tmp_path):
    project = _project(tmp_path, PORT_TESTS)
    out = _pytest(fresh_python, project, "-v", "--nnparity-steps", "3", "--nnparity-dtype", "float32",
                  "--nnparity-dtype", "float64")
    assert "2 failed, 2 passed" in out.stdout, out.stdout[-3000:] + out.stderr[-3000:]
    for dtype in ("float32", "float64"):  # one run per dtype, the dtype in the id
        assert f"test_port.py::test_port[{dtype}] PASSED" in out.stdout
        assert f"test_port.py::test_port_missing_its_tanh[{dtype}] FAILED" in out.stdout
        assert f"First divergence in torch vs Keras ({dtype}, 3 steps): a1" in out.stdout
    assert "[activation] after z1 torch applies tanh, Keras no activation" in out.stdout
    assert str(ROOT) in subprocess.run([fresh_python, "-c", "import nnparity; print(nnparity.__file__)"], cwd=project,
                                       env=_env(), capture_output=True, text=True).stdout  # this checkout's nnparity


def test_the_fixture_skips_naming_the_framework_that_is_missing(fresh_python, tmp_path):
    project = _project(tmp_path, """
        import sys

        import frameworks


        def test_port(nnparity_compare):
            pass
        """)
    # a conftest that makes torch look absent to the plugin's check, as an environment without torch is
    (project / "conftest.py").write_text("import importlib.util\n_real = importlib.util.find_spec\n"
                                         "importlib.util.find_spec = lambda name, *a: None if name == 'torch' else "
                                         "_real(name, *a)\n")
    out = _pytest(fresh_python, project, "-rs")
    assert "1 skipped" in out.stdout, out.stdout[-2000:]
    assert "nnparity_compare: torch is not installed (missing torch): pip install 'nnparity[torch]'" in out.stdout
