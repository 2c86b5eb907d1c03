"""The one comparison helper: every check in nnparity compares through ``compare``.

Two dicts of arrays (``actual`` from a framework, ``expected`` from the
reference) are compared item by item with ``|actual - expected| <= atol + rtol * |expected|``
(the rule of ``numpy.isclose`` and ``torch.testing.assert_close``). The report
reads like torch.testing's: mismatched count, greatest absolute and relative
difference with their index, what was allowed, and which item failed.

Tolerances are data: the one table is ``tolerances.py``, each row with the
measurement behind it; callers pass the row's ``atol`` and ``rtol``.

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
