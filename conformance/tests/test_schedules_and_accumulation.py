"""Schedules and gradient accumulation at their edges, against torch and Keras (docs/conventions-training.md).

``test_training_conventions.py`` proves each difference on one setting; these hold the reference's
``learning_rates``, ``StepLR``, ``ExponentialDecay`` and ``accumulate_gradients`` where that setting did not
reach (the mutation run of docs/mutation.md found each gap): a schedule that changes at every epoch,
decay_steps 1 and a staircase, one micro-batch, the defaults, and what each framework refuses.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.tests.support import needs
from reference import SGD
from reference.training_conventions import (
    ExponentialDecay,
    StepLR,
    accumulate_gradients,
    learning_rates,
)

from ..compare import assert_agree
from .test_training_conventions import (
    DTYPE,
    EPOCHS,
    STEPS_PER_EPOCH,
    TOL,
    micro_batches,
    numpy_gradient,
    torch_rates_per_epoch,
)


def test_a_per_epoch_schedule_changes_at_each_epoch_as_torch_s_scheduler():
    """``learning_rates(schedule, steps, steps_per_epoch)`` calls the schedule with the epoch, a whole number, as
    torch's ``scheduler.step()`` once an epoch does: ``StepLR(step_size=2)`` with torch's default gamma (0.1, the
    reference's default too) divides by 10 every 2 epochs, and ``ExponentialLR(gamma=0.5)``, torch's
    ``lr * gamma**epoch``, falls at every epoch (a fraction of an epoch would show)."""
    needs("torch")
    import torch

    steps = EPOCHS * STEPS_PER_EPOCH
    rows = {"StepLR(step_size=2)": (lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2), StepLR(0.1, 2)),
            "StepLR(step_size=1)": (lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=1), StepLR(0.1, 1)),
            "ExponentialLR(gamma=0.5)": (lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.5),
                                         lambda epoch: 0.1 * 0.5**epoch)}
    for name, (make, schedule) in rows.items():
        actual = {"rate": np.array(torch_rates_per_epoch(make))}
        assert_agree(actual, {"rate": np.array(learning_rates(schedule, steps, STEPS_PER_EPOCH))}, atol=TOL.atol,
                     rtol=TOL.rtol, what=f"torch's {name} stepped once an epoch")
        assert len(set(actual["rate"].tolist())) > 1, f"{name}: the rate never changed, the row proves nothing"


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize("decay_steps", [1, 3])
def test_exponential_decay_takes_what_keras_takes(decay_steps, staircase):
    """Keras's ``ExponentialDecay`` takes any decay_steps > 0 (1 halves the rate at every step here) and refuses 0;
    so does the reference, and its float32 rates are Keras's, to the last bit, continuous or a staircase."""
    needs("keras")
    import keras

    from frameworks.keras_twin import keras_dtype

    ours = ExponentialDecay(0.1, decay_steps, 0.5, staircase)
    with keras_dtype(DTYPE):
        theirs = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps, 0.5, staircase)
        rates = [float(keras.ops.convert_to_numpy(theirs(k))) for k in range(6)]
    assert rates == [ours(k) for k in range(6)]
    for build in (lambda: keras.optimizers.schedules.ExponentialDecay(0.1, 0, 0.5),
                  lambda: ExponentialDecay(0.1, 0, 0.5)):
        with pytest.raises(ValueError, match="decay_steps"):
            build()


def test_schedules_and_accumulation_refuse_bad_input_naming_themselves():
    """What torch cannot step (``StepLR(step_size=0)``: a division by zero at its first ``step()``) and Keras refuses
    (``decay_steps=0``), the reference refuses when built; every refusal begins with the refusing call."""
    for build, message in ((lambda: StepLR(0.1, 0), r"^StepLR: expected step_size > 0. Received: step_size=0"),
                           (lambda: ExponentialDecay(0.1, 0, 0.5),
                            r"^ExponentialDecay: expected decay_steps > 0. Received: decay_steps=0"),
                           (lambda: accumulate_gradients([{"w": np.ones(1)}], "jax"),
                            r"^accumulate_gradients: convention must be 'torch' or 'keras'. Received: convention='jax'")):
        with pytest.raises(ValueError, match=message):
            build()


def test_one_micro_batch_is_its_own_gradient_and_torch_is_the_default():
    """One micro-batch: torch's loop is a plain ``backward()`` and ``step()``, and the sum and the mean of one
    gradient are that gradient, so both conventions give torch's step; with four, ``accumulate_gradients``
    without a convention is torch's (the reference's default convention)."""
    needs("torch")
    import torch

    w, batches = micro_batches()
    X, y = batches[0]
    wt = torch.tensor(w, requires_grad=True)
    ((torch.tensor(X) @ wt - torch.tensor(y)) ** 2).mean().backward()
    torch.optim.SGD([wt], lr=0.1).step()
    for convention in ("torch", "keras"):
        params = {"w": w.copy()}
        SGD(0.1).update(params, accumulate_gradients([numpy_gradient(w, X, y)], convention))
        assert_agree({"w": wt.detach().numpy()}, params, atol=TOL.atol, rtol=TOL.rtol, what=f"one micro-batch, {convention}")
    grads = [numpy_gradient(w, X, y) for X, y in batches]
    assert_agree(accumulate_gradients(grads), accumulate_gradients(grads, "torch"), atol=0.0, rtol=0.0,
                 what="accumulate_gradients' default convention")
