"""How many threads nnparity's processes use, and why: the one thread policy.

    cores() -> int                  the CPUs this process may run on
    limit_reference_blas()          NumPy's BLAS (the reference's products) on REFERENCE_BLAS_THREADS
    default_blas_threads() -> int   NumPy's BLAS thread count as this process found it

**NumPy's BLAS runs the reference on one thread** (``REFERENCE_BLAS_THREADS``), in every process
of nnparity: each command (``nnparity/cli.py``), each pytest process (the root ``conftest.py``)
and each runner worker (``matrix.py``). The reference's products are small: OpenBLAS hands one to
a second thread above a fixed size (m * n * k over 262,144, keras-4-64-32-1's 500x64 @ 64x32),
and at these sizes that thread costs more than it gives. Measured (``nnparity bench``, run H of
docs/performance.md, AMD EPYC with 2 vCPUs): keras-4-64-32-1 float64 takes 899 us a step on
OpenBLAS's default two threads and 570 us on one, quiet; 2,600 us against 544 us with one other
CPU-bound process running, because a spinning BLAS thread waits for a core that is busy. It is
the NumPy side of the torch twin's one intra-op thread (``frameworks/torch_twin.py``). One thread
changes no number: OpenBLAS splits a product over its threads by blocks of the output, so every
element is added in the same order (``tests/cli/test_bench.py``).

A learner who imports ``reference`` alone keeps NumPy's default: the limit is set by nnparity's
processes, not by the reference. ``nnparity bench`` times both (``reference`` on one thread,
``reference-default-blas`` on NumPy's default).
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy  # noqa: F401  (loads NumPy's BLAS, which threadpoolctl then finds)
from threadpoolctl import threadpool_info, threadpool_limits

REFERENCE_BLAS_THREADS = 1

# Read by OpenMP (torch), OpenBLAS, MKL and TensorFlow when they start their thread pools.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                    "TF_NUM_INTEROP_THREADS")


def cores() -> int:
    """The CPUs this process may run on (its affinity, which containers and taskset narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def blas_threads() -> int:
    """NumPy's BLAS thread count now (the largest, if NumPy loaded more than one BLAS)."""
    return max((lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"), default=1)


@lru_cache(maxsize=1)
def default_blas_threads() -> int:
    """NumPy's BLAS thread count as this process found it: noted at the first call, which
    ``limit_reference_blas`` makes before it limits anything."""
    return blas_threads()


def limit_reference_blas() -> None:
    """NumPy's BLAS on ``REFERENCE_BLAS_THREADS`` threads for the rest of this process."""
    default_blas_threads()
    threadpool_limits(limits=REFERENCE_BLAS_THREADS, user_api="blas")
