"""The step-level checks: what the reference gives and what a twin gives, for one case.

Each pair computes one quantity from the case's inputs (``cases.CaseInputs``), the
reference on the inputs rounded to the case's dtype, the twin on the inputs as
they are (the twin rounds them to its dtype), with the case's first dropout masks:

- ``forward``: every layer's pre-activation ``z_l`` and activation ``a_l``
  (and BatchNorm's ``bn{l}`` and Dropout's ``dropout{l}`` outputs)
- ``loss``: the loss value
- ``gradients``: dL/dW and dL/db of every layer, and dL/dX
- ``step``: every parameter after one step of the case's optimizer, on the full batch
  (and BatchNorm's running statistics, which the training forward moves)
- ``trajectory``: every parameter after each of ``TRAJECTORY_STEPS`` steps over the
  lesson's mini-batches (``reference.MiniBatches``, the same for all three)

The reference follows the case's framework's conventions (``cases.reference_model``):
torch's optimizer formula for the torch twin, Keras's for the Keras twins.
"""

from __future__ import annotations

import numpy as np

from ..cases import (
    TRAJECTORY_STEPS,
    CaseInputs,
    lesson_optimizer,
    masks_by_step,
    optimizer_of,
    trajectory_items,
)


def _optimizer(inputs: CaseInputs, framework: str, optimizer: str | None):
    """The reference's optimizer of the case, under ``framework``'s formula (and the lesson's schedule)."""
    name, hyper = optimizer_of(inputs.lesson, optimizer)
    return lesson_optimizer(inputs.lesson, name, hyper, framework)


def forward_reference(inputs: CaseInputs, framework: str, optimizer: str | None) -> dict:
    model = inputs.reference_model(framework)
    model.forward(inputs.ref_X)
    return model.trace()


def forward_twin(twin, inputs: CaseInputs, optimizer: str | None) -> dict:
    return twin.forward(inputs.X)


def loss_reference(inputs: CaseInputs, framework: str, optimizer: str | None) -> dict:
    return {"loss": np.asarray(inputs.reference_model(framework).loss_value(inputs.ref_X, inputs.ref_y))}


def loss_twin(twin, inputs: CaseInputs, optimizer: str | None) -> dict:
    return {"loss": twin.loss(inputs.X, inputs.y)}  # as returned: a NumPy scalar keeps its dtype for the check


def gradients_reference(inputs: CaseInputs, framework: str, optimizer: str | None) -> dict:
    return inputs.reference_model(framework).gradients(inputs.ref_X, inputs.ref_y)


def gradients_twin(twin, inputs: CaseInputs, optimizer: str | None) -> dict:
    return twin.gradients(inputs.X, inputs.y)


def step_reference(inputs: CaseInputs, framework: str, optimizer: str | None) -> dict:
    model = inputs.reference_model(framework)
    model.step(inputs.ref_X, inputs.ref_y, _optimizer(inputs, framework, optimizer))
    return dict(model.params)


def step_twin(twin, inputs: CaseInputs, optimizer: str | None) -> dict:
    return twin.step(inputs.X, inputs.y, *optimizer_of(inputs.lesson, optimizer))


def trajectory_reference(inputs: CaseInputs, framework: str, optimizer: str | None) -> dict:
    model = inputs.reference_model(framework)
    snapshots = model.train(inputs.ref_X, inputs.ref_y, _optimizer(inputs, framework, optimizer),
                            inputs.batches(max(TRAJECTORY_STEPS)), record=TRAJECTORY_STEPS,
                            dropout_masks=masks_by_step(inputs.lesson))
    return trajectory_items(snapshots)


def trajectory_twin(twin, inputs: CaseInputs, optimizer: str | None) -> dict:
    snapshots = twin.train(inputs.X, inputs.y, *optimizer_of(inputs.lesson, optimizer),
                           inputs.batches(max(TRAJECTORY_STEPS)), record=TRAJECTORY_STEPS,
                           dropout_masks=masks_by_step(inputs.lesson))
    return trajectory_items(snapshots)
