"""The one tolerance table: every bound a comparison is held to, each with the measurement behind it.

Every comparison is ``|actual - expected| <= atol + rtol * |expected|`` (``compare.py``). A row
says where it applies (``Row``: a dtype, optionally a check, a lesson, or lessons with BatchNorm)
and why its bound is where it is. ``tolerance`` is the one lookup: the most specific row that
exists, in this order::

    (dtype, check, lesson)   a lesson measured outside its check's row (spiral-3-layer's trajectory)
    (dtype, check, BatchNorm)
    (dtype, check)           a check with rows of its own (trajectory@100, training, gradient_norms)
    (dtype, BatchNorm)       any check of a lesson with BatchNorm
    (dtype)                  any check

The step-level rows were measured on this project's machine (torch 2.13, keras 3.15 on TF 2.21)
over the whole catalog: ``python tools/measure_trajectory.py`` prints the trajectory's; the
training rows over every lesson's full training run, in both frameworks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float
    reason: str


@dataclass(frozen=True)
class Row:
    """Where a tolerance applies: ``dtype`` (None: any), ``check`` (None: any check without a row of its
    own; "trajectory@K" a trajectory's snapshot after K steps; "reference" the reference computing in
    float32 itself; "sampling" two generators' draws), ``lesson`` (None: any), ``batchnorm`` (lessons
    with BatchNorm)."""

    dtype: str | None
    check: str | None = None
    lesson: str | None = None
    batchnorm: bool = False

    @property
    def label(self) -> str:
        """How a report names the row: "float32 trajectory@100 spiral-3-layer", "float32 batchnorm", "sampling"."""
        parts = (self.dtype, self.check, self.lesson, "batchnorm" if self.batchnorm else None)
        return " ".join(p for p in parts if p)


TOLERANCES: dict[Row, Tolerance] = {
    # ---- step-level checks (forward, loss, gradients, step, trajectory) and the probes

    Row("float64"): Tolerance(
        atol=1e-12,
        rtol=1e-12,
        reason="float64 results of the same formulas differ only by summation order and "
        "library rounding: measured at most 1.1e-15 (forward of keras-4-64-32-1) on values of size O(1-10), so 1e-12 "
        "leaves 1000x headroom and stays far under the 1e-10 the project promises.",
    ),
    Row("float32"): Tolerance(
        atol=5e-6,
        rtol=5e-6,
        reason="a float32 framework against the float64 reference (run on the same "
        "float32-rounded inputs) differs by float32 rounding: measured at most 6.8e-7 "
        "absolute (forward of keras-4-64-32-1, a 64-wide layer: ~64 roundings of 6e-8 "
        "each). 5e-6 is about 7x that; 1e-6 would sit within 1.5x of it. It also covers the "
        "weights after 10 training steps (the trajectory check): measured at most 9.8e-7 over "
        "every lesson x optimizer x framework (`python tools/measure_trajectory.py`).",
    ),
    Row("float32", "trajectory@100"): Tolerance(
        atol=2e-4,
        rtol=2e-4,
        reason="after 100 float32 training steps against the float64 reference, rounding has "
        "compounded: measured (`python tools/measure_trajectory.py`, every lesson x optimizer "
        "x framework) at most 2.2e-7 after 1 step, 9.8e-7 after 10 and 4.8e-5 after 100 "
        "(xor-relu with momentum, torch and Keras alike: a ReLU input rounded to the other side "
        "of 0, then carried by the momentum). 2e-4 is about 4x that. One case is left outside on "
        "purpose: centered RMSprop under torch's formula on torch-4-8-4-1 (3.0e-3; see "
        "docs/optimizers.md).",
    ),
    # a lesson's own row, where that lesson measured outside the check's row
    Row("float32", "trajectory@100", "spiral-3-layer"): Tolerance(
        atol=2e-2,
        rtol=0.0,
        reason="Adam divides each gradient by its running root mean square, so a gradient's relative "
        "error becomes an error in the step itself. At step 47 a dead ReLU unit of layer 2 wakes on one "
        "sample with z = 5.5e-5, which float32 holds only to 3e-3 relative; W3[15]'s gradient (1.4e-7) "
        "carries that error, and Adam turns it into a step-sized one that the later steps spread. "
        "Measured after 100 steps: 5.3e-3 (torch), 1.2e-3 (Keras), and NumPy's own float32 run ends "
        "5.3e-3 from the float64 reference too: float32 rounding, not a framework. 2e-2 is about 4x; "
        "absolute, since the difference is a fraction of a step, whatever the weight's size. Measured again "
        "with the kink walk (conformance/known/kink_crossing.py): the runs part where a ReLU unit crosses its kink, "
        "torch at step 81, Keras on TensorFlow, JAX (compiled step) and torch at step 100 (1.2e-3 after 100). "
        "A crossing earlier in the run parts them further (keras-jax's eager step crossed at step 52: 0.088); "
        "that is the known difference float32-relu-kink-crossing (known.py), not this row. After 10 "
        "steps this lesson keeps the float32 row (measured 2.1e-7 torch, 1.0e-6 Keras: "
        "`python tools/measure_trajectory.py --lesson spiral-3-layer --optimizer lesson`).",
    ),
    # Lessons with BatchNorm (``Lesson.batchnorm``): dividing by the batch's standard deviation
    # amplifies the rounding of everything before it, layer after layer.
    Row("float64", batchnorm=True): Tolerance(
        atol=1e-12,
        rtol=1e-12,
        reason="the float64 row, kept: spiral-batchnorm measured at most 1.7e-14 (bn2, keras forward; "
        "the smallest batch std of z1 is 0.14), 58x under 1e-12.",
    ),
    Row("float32", batchnorm=True): Tolerance(
        atol=3e-5,
        rtol=5e-6,
        reason="float32 rounding of z2 (2.3e-6 in torch, |z2| up to 5.6) divided by the batch std "
        "(down to 0.25) and multiplied by gamma (up to 1.5): measured 6.4e-6 absolute (bn2, torch forward of "
        "spiral-batchnorm), 0.74 of the float32 row's allowance. 3e-5 is about 5x that, and every BatchNorm "
        "mistake of tests/teeth/test_regularizer_teeth.py still misses it by 18x or more (the smallest: torch's "
        "running variance taken biased, 6.1e-4).",
    ),
    Row("float32", "reference"): Tolerance(
        atol=5e-6,
        rtol=5e-6,
        reason="the reference computing in float32 itself (MLP(dtype='float32'), "
        "conformance/checks/reference_float32.py) against a float32 framework: both round at every "
        "operation, in their own order. Measured at most 3.6e-7 absolute (Keras forward of "
        "tanh-4-5-4-1, z3; torch: 2.5e-7, gradients of sensor, b2) over forward, loss, gradients "
        "and one step of every lesson without BatchNorm. The float32 row's 5e-6 is 14x that.",
    ),
    Row("float32", "reference", batchnorm=True): Tolerance(
        atol=3e-5,
        rtol=5e-6,
        reason="as the float32 reference row, for a lesson with BatchNorm, whose division by the "
        "batch std amplifies rounding (see the float32 batchnorm row): measured at most 6.7e-6 "
        "(bn2, Keras forward of spiral-batchnorm; torch 1.5e-6). The float32 batchnorm row's 3e-5 "
        "is 4.5x that.",
    ),
    Row(None, "sampling"): Tolerance(
        atol=0.03,
        rtol=0.0,
        reason="two initializers drawing 1e6 weights from one distribution with different "
        "random generators: their quantiles (in units of the framework's standard deviation) "
        "differ by sampling error, whose standard error is at most 0.0053 for the difference "
        "of two samples (the 0.99 quantile of a normal). 0.03 is 5.7 standard errors; a 3% "
        "change of scale, a shift, or a wrong truncation moves them further.",
    ),
    # ---- the training check: the whole run (conformance/checks/training.py)
    Row("float64", "training"): Tolerance(
        atol=1e-10,
        rtol=1e-10,
        reason="after the whole run (up to 10000 steps), parameters differed by at most 6.4e-14 "
        "(torch-4-8-4-1 in torch; most lessons 2e-16 to 5e-15) and loss curves by at most 1.5e-15: "
        "rounding grows with the steps but stays 1500x under 1e-10, the project's float64 promise. "
        "A wrong formula moves parameters by O(learning rate) in the first step.",
    ),
    Row("float32", "training"): Tolerance(
        atol=1.0,
        rtol=0.0,
        reason="float32 rounding (6e-8 per operation) compounds over thousands of steps: final "
        "parameters differed by up to 1.1e-4 (circles), so they are no longer a float32 test. What the "
        "learner sees is: the number of correctly classified test points, which was equal in every "
        "lesson; one point of slack for a point that sits on the boundary. (Measured on a deep-relu run "
        "of 300 SGD steps, not in the catalog: parameters 3e-2 apart, 4 test points apart.)",
    ),
    # a lesson's own row, where its run measured outside the dtype's row
    Row("float64", "training", "spiral-3-layer"): Tolerance(
        atol=1e-8,
        rtol=1e-8,
        reason="Adam divides each gradient by its running root mean square, so a gradient's relative "
        "rounding error becomes an error in the step itself (a ReLU unit that wakes on one sample with "
        "z near 0 has a tiny gradient of poor relative accuracy: compare.py's spiral-3-layer row). Over "
        "1000 full-batch steps the two float64 runs separate about tenfold every 100 to 150 epochs: "
        "measured 4.3e-15 after 100 epochs, 1.8e-12 after 400, 9.0e-10 after 1000 (torch; Keras 1.1e-11), "
        "loss curves 4.5e-12 apart, every prediction equal. 1e-8 is 11x the worst; a wrong formula still "
        "moves the parameters by O(learning rate) = 1e-2 in the first step.",
    ),
    Row("float32", "training", "spiral-3-layer"): Tolerance(
        atol=12.0,
        rtol=0.0,
        reason="the same Adam amplification in float32 (compare.py's spiral-3-layer row: 5e-3 after 100 "
        "steps) leaves nothing of the start's rounding after 1000 epochs: the float32 runs end with "
        "parameters 0.75 (torch) and 5.0 (Keras) from the reference's, NumPy's own float32 run 1.1 to 1.7, "
        "and the correct counts move with them: measured 0 (torch, one thread), 3 (torch with two "
        "threads: another summation order) and 1 (Keras) out of 300; NumPy's float32 run 4 and 6 "
        "from the reference; the float64 reference itself moves by 1 to 3 when only its inputs are "
        "rounded to float32. 12 points (4%) is twice the worst; the float64 training check still "
        "compares every parameter (its own row, above).",
    ),
    Row("float32", "training", "spiral-batchnorm"): Tolerance(
        atol=15.0,
        rtol=0.0,
        reason="BatchNorm divides by the batch's standard deviation, so float32 runs of this lesson end "
        "far apart (parameters 1.2e-2 apart in torch, 2.5e-3 in Keras; NumPy's own float32 run 6.2e-3 from "
        "the float64 reference), and the spiral ends at 77% accuracy with many points on the boundary, "
        "which flip with them: correct counts measured 7 apart (torch) and 2 (Keras) out of 300. Rounding "
        "alone does this: NumPy's float32 run differs from the reference by 2 to 3 points, and the float64 "
        "reference itself moves by 5 when only its inputs are rounded to float32. 15 points (5%) is twice "
        "the worst; the float64 training check still compares every parameter at 1e-10.",
    ),
    Row("float32", "training", "spiral-layernorm"): Tolerance(
        atol=15.0,
        rtol=0.0,
        reason="as spiral-batchnorm's row: LayerNorm divides each row by its own standard deviation, and the "
        "spiral ends at 67% accuracy with many points on the boundary. Measured after 2000 epochs: parameters "
        "1.7e-2 from the reference in torch and in Keras, correct counts 203 in both against the reference's "
        "196 (7 apart) out of 300. Rounding alone does this: the float64 reference moves from 201 to 196 when "
        "only its inputs are rounded to float32, and NumPy's own float32 run ends at 197. 15 points (5%) is "
        "twice the worst; the float64 training check still compares every parameter at 1e-10 (measured 8.3e-15).",
    ),
    # ---- the gradient_norms check: relative only, since |dW_1| of deep-sigmoid is 5e-8 and any absolute
    # tolerance of the size the other checks use would accept anything there
    Row("float64", "gradient_norms"): Tolerance(
        atol=0.0,
        rtol=1e-12,
        reason="measured at most 2.5e-15 relative over the catalog (deep-sigmoid's first layer, "
        "through 11 layers); 1e-12 is the float64 rtol of every check.",
    ),
    Row("float32", "gradient_norms"): Tolerance(
        atol=0.0,
        rtol=2e-5,
        reason="measured at most 2.2e-6 relative (deep-sigmoid's first layer: eleven layers of "
        "float32 rounding compound); 2e-5 is 9x that. Elsewhere at most 7e-7.",
    ),
}


def tolerance(dtype: str | None, check: str | None = None, lesson=None) -> Tolerance:
    """The most specific row of ``TOLERANCES`` for ``dtype``, ``check`` and ``lesson`` (a ``Lesson``; its
    name and whether it has BatchNorm), in the order of the module doc."""
    name = getattr(lesson, "name", None)
    batchnorm = bool(getattr(lesson, "batchnorm", False))
    wanted = [Row(dtype, check, name), Row(dtype, check, batchnorm=batchnorm), Row(dtype, check),
              Row(dtype, batchnorm=batchnorm), Row(dtype)]
    for row in wanted:
        if row in TOLERANCES:
            return TOLERANCES[row]
    dtypes = sorted({str(row.dtype) for row in TOLERANCES if row.dtype})
    raise ValueError(f"no tolerance for dtype {dtype!r}; expected one of {dtypes}")
