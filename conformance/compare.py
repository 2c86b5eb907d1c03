"""The one comparison helper: every check in nnparity compares through ``compare``.

Two dicts of arrays (``actual`` from a framework, ``expected`` from the
reference) are compared item by item with ``|actual - expected| <= atol + rtol * |expected|``
(the rule of ``numpy.isclose`` and ``torch.testing.assert_close``). The report
reads like torch.testing's: mismatched count, greatest absolute and relative
difference with their index, what was allowed, and which item failed.

Tolerances are data (``TOLERANCES``), one row per dtype and kind of check, each
with the reason for its size written beside it.

Two options, both off unless asked for:

- ``dtype``: every actual array must have this dtype, as ``torch.testing.assert_close``
  checks by default. A float64 request answered in float32 is a silent downcast:
  the item fails and says so, with its numbers still reported.
- ``scale``: {item name: array or number}. The atol of each element is multiplied by
  its scale: |actual - expected| <= atol * scale + rtol * |expected|. Rounding errors
  are relative to the size of the numbers that made a value, not to the value: an
  element that cancels to near 0 keeps the error of its large terms. The property-based
  tests pass the sizes that ``magnitudes.py`` computes; an item not named keeps scale 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float
    reason: str


# Measured on this project's machine (torch 2.13, keras 3.15 on TF 2.21) over the
# whole catalog: `conformance/measure_trajectory.py` prints the table this came from.
TOLERANCES: dict[str, Tolerance] = {
    "float64": Tolerance(
        atol=1e-12,
        rtol=1e-12,
        reason="float64 results of the same formulas differ only by summation order and "
        "library rounding: measured at most 1.1e-15 (forward of keras-4-64-32-1) on values of size O(1-10), so 1e-12 "
        "leaves 1000x headroom and stays far under the 1e-10 the project promises.",
    ),
    "float32": Tolerance(
        atol=5e-6,
        rtol=5e-6,
        reason="a float32 framework against the float64 reference (run on the same "
        "float32-rounded inputs) differs by float32 rounding: measured at most 6.8e-7 "
        "absolute (forward of keras-4-64-32-1, a 64-wide layer: ~64 roundings of 6e-8 "
        "each). 5e-6 is about 7x that; 1e-6 would sit within 1.5x of it. It also covers the "
        "weights after 10 training steps (the trajectory check): measured at most 9.8e-7 over "
        "every lesson x optimizer x framework (`python -m conformance.measure_trajectory`).",
    ),
    "float32 trajectory@100": Tolerance(
        atol=2e-4,
        rtol=2e-4,
        reason="after 100 float32 training steps against the float64 reference, rounding has "
        "compounded: measured (`python -m conformance.measure_trajectory`, every lesson x optimizer "
        "x framework) at most 2.2e-7 after 1 step, 9.8e-7 after 10 and 4.8e-5 after 100 "
        "(xor-relu with momentum, torch and Keras alike: a ReLU input rounded to the other side "
        "of 0, then carried by the momentum). 2e-4 is about 4x that. One case is left outside on "
        "purpose: centered RMSprop under torch's formula on torch-4-8-4-1 (3.0e-3; see "
        "docs/optimizers.md).",
    ),
    # A lesson's own row, "<dtype> <check> <lesson>", where that lesson measured outside the check's row.
    "float32 trajectory@100 spiral-3-layer": Tolerance(
        atol=2e-2,
        rtol=0.0,
        reason="Adam divides each gradient by its running root mean square, so a gradient's relative "
        "error becomes an error in the step itself. At step 47 a dead ReLU unit of layer 2 wakes on one "
        "sample with z = 5.5e-5, which float32 holds only to 3e-3 relative; W3[15]'s gradient (1.4e-7) "
        "carries that error, and Adam turns it into a step-sized one that the later steps spread. "
        "Measured after 100 steps: 5.3e-3 (torch), 1.2e-3 (Keras), and NumPy's own float32 run ends "
        "5.3e-3 from the float64 reference too: float32 rounding, not a framework. 2e-2 is about 4x; "
        "absolute, since the difference is a fraction of a step, whatever the weight's size. Measured again "
        "with the kink walk (conformance/kink_crossing.py): the runs part where a ReLU unit crosses its kink, "
        "torch at step 81, Keras on TensorFlow, JAX (compiled step) and torch at step 100 (1.2e-3 after 100). "
        "A crossing earlier in the run parts them further (keras-jax's eager step crossed at step 52: 0.088); "
        "that is the known difference float32-relu-kink-crossing (known.py), not this row. After 10 "
        "steps this lesson keeps the float32 row (measured 2.1e-7 torch, 1.0e-6 Keras: "
        "`python -m conformance.measure_trajectory --lesson spiral-3-layer --optimizer lesson`).",
    ),
    # Lessons with BatchNorm (``Lesson.batchnorm``): dividing by the batch's standard deviation
    # amplifies the rounding of everything before it, layer after layer.
    "float64 batchnorm": Tolerance(
        atol=1e-12,
        rtol=1e-12,
        reason="the float64 row, kept: spiral-batchnorm measured at most 1.7e-14 (bn2, keras forward; "
        "the smallest batch std of z1 is 0.14), 58x under 1e-12.",
    ),
    "float32 batchnorm": Tolerance(
        atol=3e-5,
        rtol=5e-6,
        reason="float32 rounding of z2 (2.3e-6 in torch, |z2| up to 5.6) divided by the batch std "
        "(down to 0.25) and multiplied by gamma (up to 1.5): measured 6.4e-6 absolute (bn2, torch forward of "
        "spiral-batchnorm), 0.74 of the float32 row's allowance. 3e-5 is about 5x that, and every BatchNorm "
        "mistake of tests/test_regularizer_teeth.py still misses it by 18x or more (the smallest: torch's "
        "running variance taken biased, 6.1e-4).",
    ),
    "float32 reference": Tolerance(
        atol=5e-6,
        rtol=5e-6,
        reason="the reference computing in float32 itself (MLP(dtype='float32'), "
        "conformance/reference_float32.py) against a float32 framework: both round at every "
        "operation, in their own order. Measured at most 3.6e-7 absolute (Keras forward of "
        "tanh-4-5-4-1, z3; torch: 2.5e-7, gradients of sensor, b2) over forward, loss, gradients "
        "and one step of every lesson without BatchNorm. The float32 row's 5e-6 is 14x that.",
    ),
    "float32 reference batchnorm": Tolerance(
        atol=3e-5,
        rtol=5e-6,
        reason="as the float32 reference row, for a lesson with BatchNorm, whose division by the "
        "batch std amplifies rounding (see the float32 batchnorm row): measured at most 6.7e-6 "
        "(bn2, Keras forward of spiral-batchnorm; torch 1.5e-6). The float32 batchnorm row's 3e-5 "
        "is 4.5x that.",
    ),
    "sampling": Tolerance(
        atol=0.03,
        rtol=0.0,
        reason="two initializers drawing 1e6 weights from one distribution with different "
        "random generators: their quantiles (in units of the framework's standard deviation) "
        "differ by sampling error, whose standard error is at most 0.0053 for the difference "
        "of two samples (the 0.99 quantile of a normal). 0.03 is 5.7 standard errors; a 3% "
        "change of scale, a shift, or a wrong truncation moves them further.",
    ),
}


def tolerance(dtype: str, check: str | None = None) -> Tolerance:
    """The row ``"<dtype> <check>"`` if the check has its own (the trajectory), else the dtype's."""
    if check is not None and f"{dtype} {check}" in TOLERANCES:
        return TOLERANCES[f"{dtype} {check}"]
    try:
        return TOLERANCES[str(dtype)]
    except KeyError:
        raise ValueError(f"no tolerance for dtype {dtype!r}; expected one of {sorted(TOLERANCES)}") from None


@dataclass
class ItemReport:
    """How one named array compares."""

    name: str
    shape: tuple
    n_total: int
    n_mismatched: int
    max_abs_err: float
    max_abs_index: tuple
    max_rel_err: float
    max_rel_index: tuple
    worst_ratio: float  # max of |diff| / (atol + rtol |expected|): above 1 fails
    problem: str | None = None  # missing item, wrong shape, wrong dtype
    atol: float | None = None  # the tolerance this item was judged by (None: the comparison's; scaled: the largest)
    rtol: float | None = None

    @property
    def passed(self) -> bool:
        return self.problem is None and self.n_mismatched == 0


@dataclass
class Comparison:
    """The result of comparing two dicts of arrays."""

    what: str
    atol: float
    rtol: float
    items: list[ItemReport] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(item.passed for item in self.items)

    @property
    def max_abs_err(self) -> float:
        return max((i.max_abs_err for i in self.items), default=0.0)

    @property
    def max_rel_err(self) -> float:
        return max((i.max_rel_err for i in self.items), default=0.0)

    @property
    def worst(self) -> str | None:
        """The item furthest outside (or nearest to) what was allowed."""
        if not self.items:
            return None
        bad = [i for i in self.items if i.problem]
        if bad:
            return bad[0].name
        return max(self.items, key=lambda i: i.worst_ratio).name

    def failures(self) -> list[ItemReport]:
        return [i for i in self.items if not i.passed]

    def message(self) -> str:
        """A torch.testing-style report of every failing item (empty if all passed)."""
        lines = []
        for item in self.failures():
            head = f"{self.what}: {item.name}" if self.what else item.name
            if item.problem:
                lines.append(f"{head}: {item.problem}")
                if not np.isfinite(item.max_abs_err):
                    continue
            pct = 100.0 * item.n_mismatched / max(item.n_total, 1)
            atol = self.atol if item.atol is None else item.atol
            rtol = self.rtol if item.rtol is None else item.rtol
            lines += [
                f"{head} is not close (shape {item.shape}).",
                f"  Mismatched elements: {item.n_mismatched} / {item.n_total} ({pct:.1f}%)",
                f"  Greatest absolute difference: {item.max_abs_err:.3g} at index {item.max_abs_index} "
                f"(up to {atol:g} allowed)",
                f"  Greatest relative difference: {item.max_rel_err:.3g} at index {item.max_rel_index} "
                f"(up to {rtol:g} allowed)",
            ]
        return "\n".join(lines)


def _index(flat_index: int, shape: tuple) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat_index, shape)) if shape else ()


def compare_arrays(name: str, actual, expected, atol: float, rtol: float, *, dtype=None,
                   scale=None) -> ItemReport:
    """Compare one pair of arrays; never raises on bad input, reports it instead."""
    report = _compare_values(name, actual, expected, atol, rtol, scale)
    got = getattr(actual, "dtype", None)  # a Python float carries no dtype to check
    if dtype is not None and got is not None and report.problem is None and np.dtype(got) != np.dtype(dtype):
        report.problem = (f"dtype mismatch: expected {np.dtype(dtype)}, got {np.dtype(got)} "
                          f"(computed in another precision than the one asked for)")
    return report


def _compare_values(name, actual, expected, atol, rtol, scale) -> ItemReport:
    try:
        a = np.asarray(actual, dtype=np.float64)
        e = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        return ItemReport(name, (), 0, 0, np.inf, (), np.inf, (), np.inf, problem=f"not numeric: {exc}")
    if a.shape != e.shape:
        return ItemReport(
            name, e.shape, e.size, e.size, np.inf, (), np.inf, (), np.inf,
            problem=f"shape mismatch: expected {e.shape}, got {a.shape}",
        )
    if a.size == 0:
        return ItemReport(name, e.shape, 0, 0, 0.0, (), 0.0, (), 0.0)
    item_atol = atol
    if scale is not None:
        scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), e.shape)
        atol = atol * np.where(np.isfinite(scale), scale, 0.0)
        item_atol = float(np.max(atol))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        diff = np.abs(a - e)
        # NaN against NaN and inf against the same inf count as equal; anything else
        # non-finite counts as an infinite difference.
        same_special = (np.isnan(a) & np.isnan(e)) | (np.isinf(a) & (a == e))
        diff = np.where(same_special, 0.0, np.where(np.isnan(diff), np.inf, diff))
        allowed = atol + rtol * np.abs(np.where(np.isfinite(e), e, 0.0))
        rel = np.where(diff == 0, 0.0, diff / np.abs(e))
        rel = np.where(np.isnan(rel), np.inf, rel)
        ratio = diff / allowed
    mismatched = int(np.count_nonzero(diff > allowed))
    i_abs, i_rel = int(np.argmax(diff)), int(np.argmax(rel))
    return ItemReport(
        name=name,
        shape=e.shape,
        n_total=int(e.size),
        n_mismatched=mismatched,
        max_abs_err=float(diff.flat[i_abs]),
        max_abs_index=_index(i_abs, e.shape),
        max_rel_err=float(rel.flat[i_rel]),
        max_rel_index=_index(i_rel, e.shape),
        worst_ratio=float(np.max(ratio)),
        atol=item_atol,
        rtol=rtol,
    )


def _unmatched(name: str, array, problem: str) -> ItemReport:
    """A failing report for an item only one side has: every element counts as mismatched.
    ``problem`` has a ``{}`` for the array's shape."""
    shape = np.shape(array)
    return ItemReport(name, shape, int(np.size(array)), int(np.size(array)), np.inf, (), np.inf, (), np.inf,
                      problem=problem.format(shape))


def compare(actual: dict, expected: dict, *, atol: float, rtol: float, what: str = "", dtype=None,
            scale: dict | None = None, same_items: bool = False) -> Comparison:
    """Compare every item of ``expected`` with the same item of ``actual``.

    Both ``atol`` and ``rtol`` must be given (as torch.testing insists): a
    tolerance is a decision, not a default. Items missing from ``actual`` fail;
    with ``same_items``, so do items of ``actual`` that ``expected`` lacks (where
    both sides must record the same things, as the training check's snapshots).
    ``dtype`` and ``scale``: see the module doc.
    """
    result = Comparison(what=what, atol=float(atol), rtol=float(rtol))
    for name in (sorted(set(actual) - set(expected)) if same_items else ()):
        result.items.append(_unmatched(name, actual[name], "unexpected: got an array of shape {}, expected nothing"))
    for name, exp in expected.items():
        if name not in actual:
            result.items.append(_unmatched(name, exp, "missing: expected an array of shape {}, got nothing"))
            continue
        result.items.append(compare_arrays(name, actual[name], exp, atol, rtol, dtype=dtype,
                                           scale=None if scale is None else scale.get(name)))
    return result


def merge(what: str, comparisons: list[Comparison]) -> Comparison:
    """Several comparisons, each at its own tolerance, reported as one (a trajectory's snapshots).

    Every item keeps the tolerance it was judged by; the merged ``atol``/``rtol`` are the largest.
    """
    return Comparison(what=what, atol=max(c.atol for c in comparisons), rtol=max(c.rtol for c in comparisons),
                      items=[item for c in comparisons for item in c.items])


def assert_agree(actual: dict, expected: dict, *, atol: float, rtol: float, what: str = "", dtype=None,
                 scale: dict | None = None) -> Comparison:
    """``compare``, raising AssertionError with the report when anything disagrees."""
    result = compare(actual, expected, atol=atol, rtol=rtol, what=what, dtype=dtype, scale=scale)
    if not result.passed:
        raise AssertionError(result.message())
    return result
