"""The pair's quantities in the order the computation makes them, compared torch against Keras.

    config         the Dropout rates after each quantity (dropout runs off: pairing.py)
    forward        z1, a1, bn1, ...: each paired layer's output, in order
    loss           the loss value
    backward       dL/d each forward quantity, from the output back
    gradients      dL/dW1, dL/db1, ..., and dL/dX
    step           every parameter (and BatchNorm's running statistics) after one step
    trajectory     every parameter after step 2, 3, ..., ``steps`` (each step one batch: ``run.batches``)

Every stage is compared by the one helper (``conformance/compare.py``) at the suite's tolerance
(``conformance/tolerances.py``): the step-level row for a network with or without BatchNorm; each
trajectory step k at ``trajectory@10`` up to step 10 and ``trajectory@100`` after it (no row was
measured beyond 100 steps). The first quantity outside its tolerance, in this order, is the first
divergence, reported as the conformance walk reports it (``conformance/divergence.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from conformance.compare import Comparison, compare, merge
from conformance.divergence import Divergence, Quantity
from conformance.tolerances import tolerance

from .pairing import Pair

STAGES = ("config", "forward", "loss", "backward", "gradients", "step", "trajectory")
SHOWN_AFTER = 12  # quantities listed after the first divergence


@dataclass(frozen=True)
class PairCase:
    """What a divergence report names (``Divergence.case.id``)."""

    id: str


def quantities(pair: Pair, steps: int) -> dict[str, list[Quantity]]:
    """Stage -> its quantities, in the order of the module doc."""
    out = {stage: [] for stage in STAGES}
    for point, _ in pair.dropout_rates.items():
        out["config"].append(Quantity(f"dropout after {point}", "config", f"the Dropout rates after {point}"))
    for point in [p for p in pair.points if p.compared]:
        out["forward"].append(Quantity(point.name, "forward", point.meaning))
    out["loss"].append(Quantity("loss", "loss", "the loss of the model's output"))
    for point in reversed([p for p in pair.points if p.compared]):
        out["backward"].append(Quantity(f"dL/d{point.name}", "backward", f"gradient of the loss with respect to {point.name}"))
    for p in pair.trained:
        out["gradients"].append(Quantity(f"dL/d{p.name}", "gradients",
                                         f"gradient of the loss with respect to {p.name} ({_where(p)})"))
    out["gradients"].append(Quantity("dL/dX", "gradients", "gradient of the loss with respect to the input X"))
    for p in pair.params:
        how = "one optimizer step" if p.trained else "the step's forward (a running statistic)"
        out["step"].append(Quantity(f"{p.name} after step 1", "step", f"{p.name} ({_where(p)}) after {how}"))
    for k in range(2, steps + 1):
        for p in pair.params:
            out["trajectory"].append(Quantity(f"{p.name} after step {k}", "trajectory",
                                              f"{p.name} ({_where(p)}) after {k} steps"))
    return out


def _where(p) -> str:
    """Where a parameter lives on each side: "torch layer 0 (Linear '0').weight, keras layer 0 (Dense 'dense').kernel"."""
    return f"{p.torch[0].where}.{p.torch[1]}, {p.keras[0].where}.{p.keras[1]}"


def values(pair: Pair, inspected: dict, trajectory: list[dict]) -> dict[str, np.ndarray]:
    """One side's quantities by name (``inspected`` from ``inspect``, ``trajectory`` the params after each step)."""
    out = dict(inspected)
    for point, (torch_rates, keras_rates) in pair.dropout_rates.items():
        out[f"dropout after {point}"] = (torch_rates, keras_rates)
    for k, params in enumerate(trajectory, start=1):
        for name, value in params.items():
            out[f"{name} after step {k}"] = value
    return out


def compare_stages(qs: dict[str, list[Quantity]], torch_values: dict, keras_values: dict, dtype: str,
                   batchnorm: bool) -> dict[str, Comparison]:
    """Stage -> the comparison of its quantities, torch (actual) against Keras (expected)."""
    net = SimpleNamespace(name=None, batchnorm=batchnorm)  # what the tolerance lookup reads of a lesson
    tol = tolerance(dtype, None, net)
    out = {}
    for stage, items in qs.items():
        if not items:
            continue
        if stage == "config":  # torch's rates against Keras's, exactly
            out[stage] = compare({q.name: np.array(torch_values[q.name][0], dtype=float) for q in items},
                                 {q.name: np.array(torch_values[q.name][1], dtype=float) for q in items},
                                 atol=0.0, rtol=0.0, what="config")
            continue
        if stage != "trajectory":
            names = [q.name for q in items]
            out[stage] = compare({n: torch_values[n] for n in names}, {n: keras_values[n] for n in names},
                                 atol=tol.atol, rtol=tol.rtol, what=stage)
            continue
        parts = []
        for q in items:
            k = int(q.name.rsplit(" ", 1)[1])
            row = tolerance(dtype, "trajectory@10" if k <= 10 else "trajectory@100", net)
            parts.append(compare({q.name: torch_values[q.name]}, {q.name: keras_values[q.name]},
                                 atol=row.atol, rtol=row.rtol, what=stage))
        out[stage] = merge(stage, parts)
    return out


def first_divergence(qs: dict[str, list[Quantity]], comparisons: dict[str, Comparison], case: PairCase):
    """The first quantity outside its tolerance (a ``conformance.divergence.Divergence``), or None."""
    ordered = [(q, item, c) for stage, c in comparisons.items() for q, item in zip(qs[stage], c.items)]
    for i, (q, item, c) in enumerate(ordered):
        if not item.passed:
            atol = c.atol if item.atol is None else item.atol
            rtol = c.rtol if item.rtol is None else item.rtol
            agreed = [qq.name for qq, _, _ in ordered[:i]]
            shown = agreed if len(agreed) <= SHOWN_AFTER else ["...", *agreed[-SHOWN_AFTER:]]
            return Divergence(case=case, quantity=q, item=item, atol=atol, rtol=rtol, agreed=shown,
                              after=[(qq, it) for qq, it, _ in ordered[i + 1:i + 1 + SHOWN_AFTER]])
    return None


def step_of(divergence) -> int | None:
    """The training step a divergence happened at (None before the first step)."""
    if divergence is None or divergence.quantity.stage not in ("step", "trajectory"):
        return None
    return int(divergence.quantity.name.rsplit(" ", 1)[1])
