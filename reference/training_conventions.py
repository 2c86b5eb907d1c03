"""Training-loop conventions: learning-rate schedules, gradient accumulation, fit's default batches.

The lessons' loop is ``MLP.train`` over ``MiniBatches``, with a learning rate per step
if one is given. These are the pieces a user's own loop adds, where torch's usual
code and Keras's built-ins compute different numbers (docs/conventions-training.md).
Each is held against both frameworks by ``conformance/tests/test_training_conventions.py``.
"""

from __future__ import annotations

import numpy as np

from .batches import MiniBatches
from .optimizers import CONVENTIONS


class ExponentialDecay:
    """Keras ``optimizers.schedules.ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase)``::

        p = step / decay_steps             (floor(p) if staircase)
        learning_rate(step) = initial_learning_rate * decay_rate**p

    called by the optimizer with its step count (0 for the first step), so it changes at
    every step, continuously. Keras computes it in the dtype of ``initial_learning_rate``
    made a tensor: a Python float becomes float32, also in a float64 model. So by default
    (``dtype="float32"``) every operation here is a float32 one, as TensorFlow's: the result
    is a float32 number. ``dtype="float64"``: the same operations in float64, what Keras
    computes when ``initial_learning_rate`` is an ``np.float64`` (the schedule lessons,
    conformance/lessons.py ``lr_schedule``) and what torch's ``LambdaLR`` computes in Python floats.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                 dtype: str = "float32"):
        if not decay_steps > 0:
            raise ValueError(f"ExponentialDecay: expected decay_steps > 0. Received: decay_steps={decay_steps!r}")
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"ExponentialDecay: dtype must be float32 or float64. Received: dtype={dtype!r}")
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase = decay_rate, staircase
        self.dtype = np.dtype(dtype)

    def __call__(self, step: int) -> float:
        f = self.dtype.type
        p = f(step) / f(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return float(f(self.initial_learning_rate) * np.power(f(self.decay_rate), p))


class Scheduled:
    """An optimizer whose learning rate follows a schedule of its step count, as Keras's optimizers do
    with ``learning_rate=schedule``: before each update, ``learning_rate = schedule(iterations)``
    (``iterations`` is 0 at the first step). torch's equivalent is a scheduler stepped after every
    ``optimizer.step()`` (``LambdaLR``: frameworks/torch_twin.py). Everything else is the optimizer's own.
    """

    def __init__(self, optimizer, schedule):
        self.optimizer, self.schedule = optimizer, schedule

    def update(self, params: dict, grads: dict) -> None:
        self.optimizer.learning_rate = float(self.schedule(self.optimizer.iterations))
        self.optimizer.update(params, grads)

    def __getattr__(self, name: str):
        if name in ("optimizer", "schedule"):  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.optimizer, name)


class StepLR:
    """torch ``optim.lr_scheduler.StepLR(optimizer, step_size, gamma)``, stepped once an epoch
    (``scheduler.step()`` after each epoch's batches, as torch's examples write it)::

        learning_rate(epoch) = learning_rate * gamma**floor(epoch / step_size)

    A staircase in epochs, in float64 (Python floats).
    """

    def __init__(self, learning_rate: float, step_size: int, gamma: float = 0.1):
        if not step_size > 0:
            raise ValueError(f"StepLR: expected step_size > 0. Received: step_size={step_size!r}")
        self.learning_rate, self.step_size, self.gamma = learning_rate, step_size, gamma

    def __call__(self, epoch: int) -> float:
        return self.learning_rate * self.gamma ** (epoch // self.step_size)


def learning_rates(schedule, steps: int, steps_per_epoch: int | None = None) -> list[float]:
    """The learning rate of each of ``steps`` steps (``MLP.train``'s ``learning_rates``): ``schedule(step)``
    for a per-step schedule, ``schedule(step // steps_per_epoch)`` for a per-epoch one."""
    if steps_per_epoch is None:
        return [schedule(k) for k in range(steps)]
    return [schedule(k // steps_per_epoch) for k in range(steps)]


def accumulate_gradients(micro_batch_grads: list[dict], convention: str = "torch") -> dict:
    """The one gradient applied after several micro-batches, each one's gradient a dict.

    convention="torch" (the usual loop: ``loss.backward()`` per micro-batch, then
    ``optimizer.step()``; ``.grad`` adds up)::  g = g_1 + g_2 + ... + g_k
    convention="keras" (``Optimizer(gradient_accumulation_steps=k)``)::  g = (g_1 + ... + g_k) / k

    k times apart (torch users divide each loss by k to get Keras's). Keras clips and
    applies weight decay to the averaged gradient, at the k-th call.
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"accumulate_gradients: convention must be 'torch' or 'keras'. "
                         f"Received: convention={convention!r}")
    total = {name: sum(g[name] for g in micro_batch_grads) for name in micro_batch_grads[0]}
    if convention == "keras":
        return {name: g / len(micro_batch_grads) for name, g in total.items()}
    return total


# What a training call does with no batch setting: Keras ``model.fit(X, y)`` takes batches of 32,
# shuffled every epoch; torch has no fit, and ``DataLoader(dataset)``'s defaults are batch_size=1,
# shuffle=False (a loop over the whole tensor is one full batch).
DEFAULT_BATCHES = {"keras": {"batch_size": 32, "shuffle": True}, "torch": {"batch_size": 1, "shuffle": False}}


def default_batches(n_samples: int, convention: str, seed: int = 0) -> MiniBatches:
    """The batches of ``DEFAULT_BATCHES[convention]`` (Keras's shuffle draws its own order: the sizes, not the
    samples, are what the reference can reproduce)."""
    return MiniBatches(n_samples, seed=seed, **DEFAULT_BATCHES[convention])
