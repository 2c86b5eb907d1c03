"""The one thread policy (conformance/threads.py): NumPy's BLAS runs the reference on one thread in
every nnparity process, and the count the process started with is still known."""

from __future__ import annotations

import os
import subprocess
import sys

from conformance.threads import REFERENCE_BLAS_THREADS, blas_threads

PROBE = ("from conformance.threads import *; limit_reference_blas(); "
         "print(default_blas_threads(), blas_threads())")


def test_limit_reference_blas_keeps_the_default_it_found_and_runs_blas_on_one_thread():
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", str(REFERENCE_BLAS_THREADS)]


def test_a_pytest_process_runs_numpy_s_blas_on_one_thread():
    """The root conftest.py limits it in every pytest process (each xdist worker too)."""
    assert blas_threads() == REFERENCE_BLAS_THREADS


def test_every_nnparity_command_runs_numpy_s_blas_on_one_thread():
    code = ("import nnparity.cli, threadpoolctl; from conformance.threads import blas_threads; "
            "nnparity.cli.main(['lessons', '--json']) ; import sys; print(blas_threads(), file=sys.stderr)")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == str(REFERENCE_BLAS_THREADS)
