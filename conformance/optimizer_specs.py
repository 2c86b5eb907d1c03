"""The named optimizer settings: what ``nnparity run --optimizer NAME`` puts in place of a lesson's optimizer.

One registry, read by the checks, the CLI (``nnparity optimizers`` lists it) and
the tests. Every hyper-parameter is written out (none is left to a framework's
default, which differ: see ``reference/optimizers.py``), under Keras's names;
the torch twin translates them (``lr``, ``betas``, ``eps``, ``alpha`` for RMSprop's ``rho``).
The same numbers go to both frameworks; each framework then applies its own
formula, and the reference reproduces each under that framework's convention.
"""

from __future__ import annotations

from dataclasses import dataclass

from reference import OPTIMIZERS, get_optimizer


@dataclass(frozen=True)
class OptimizerSpec:
    """A named optimizer setting: a reference optimizer and every hyper-parameter."""

    name: str  # what --optimizer takes
    optimizer: str  # a key of reference.OPTIMIZERS (and of both twins' OPTIMIZERS)
    hyper: tuple[tuple[str, float | bool], ...]
    note: str = ""

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer spec {self.name!r}: unknown optimizer {self.optimizer!r}; "
                             f"expected one of {sorted(OPTIMIZERS)}")
        declared = set(OPTIMIZERS[self.optimizer].defaults["torch"])
        if set(dict(self.hyper)) != declared:
            raise ValueError(f"optimizer spec {self.name!r}: every hyper-parameter must be explicit. "
                             f"Expected {sorted(declared)}, received {sorted(dict(self.hyper))}")

    @property
    def hyperparameters(self) -> dict:
        return dict(self.hyper)

    def describe(self) -> dict:
        """A JSON-ready description (``nnparity optimizers --json``)."""
        return {"name": self.name, "optimizer": self.optimizer, "hyperparameters": self.hyperparameters,
                "note": self.note}


ADAM = (("learning_rate", 0.001), ("beta_1", 0.9), ("beta_2", 0.999), ("epsilon", 1e-7))
RMSPROP = (("learning_rate", 0.001), ("rho", 0.9), ("epsilon", 1e-7))

_SPECS = (
    OptimizerSpec("sgd", "sgd", (("learning_rate", 0.01), ("momentum", 0.0), ("nesterov", False),
                                 ("weight_decay", 0.0)),
                  "plain gradient descent"),
    OptimizerSpec("momentum", "sgd", (("learning_rate", 0.01), ("momentum", 0.9), ("nesterov", False),
                                      ("weight_decay", 0.0)),
                  "heavy-ball momentum: torch's buffer vs Keras's velocity"),
    OptimizerSpec("nesterov", "sgd", (("learning_rate", 0.01), ("momentum", 0.9), ("nesterov", True),
                                      ("weight_decay", 0.0)),
                  "Nesterov momentum"),
    OptimizerSpec("adam", "adam", ADAM + (("weight_decay", 0.0),),
                  "Keras's defaults (the seed's Adam(learning_rate=0.001)); torch adds epsilon after the "
                  "bias correction, Keras before"),
    OptimizerSpec("adamw", "adamw", ADAM + (("weight_decay", 0.01),),
                  "decoupled weight decay (torch AdamW's default 0.01)"),
    OptimizerSpec("rmsprop", "rmsprop", RMSPROP + (("momentum", 0.0), ("centered", False), ("weight_decay", 0.0)),
                  "Keras's defaults; torch adds epsilon outside the root, Keras inside"),
    OptimizerSpec("rmsprop-centered", "rmsprop",
                  RMSPROP + (("momentum", 0.0), ("centered", True), ("weight_decay", 0.0)),
                  "centered: divides by the root of the variance, v - mean(g)**2"),
    OptimizerSpec("rmsprop-momentum", "rmsprop",
                  RMSPROP + (("momentum", 0.9), ("centered", False), ("weight_decay", 0.0)),
                  "with momentum: torch keeps g/denom, Keras learning_rate*g/denom"),
    OptimizerSpec("adagrad", "adagrad", (("learning_rate", 0.01), ("initial_accumulator_value", 0.1),
                                         ("epsilon", 1e-7), ("weight_decay", 0.0)),
                  "Keras's initial accumulator 0.1, given to torch too (its default is 0)"),
    # the four of reference/adaptive_optimizers.py (docs/conventions-optimizers.md)
    OptimizerSpec("nadam", "nadam", ADAM + (("momentum_decay", 1.0), ("weight_decay", 0.0)),
                  "Keras's defaults; momentum_decay 1.0 is Keras's 0.96**t schedule (torch's default 4e-3 "
                  "Keras cannot compute); Keras rounds that 0.96 through float32"),
    OptimizerSpec("nadam-torch", "nadam", (("learning_rate", 0.002), ("beta_1", 0.9), ("beta_2", 0.999),
                                           ("epsilon", 1e-8), ("momentum_decay", 0.004), ("weight_decay", 0.0)),
                  "torch's defaults, momentum_decay 4e-3: Keras's Nadam has none, its rows skip (the adapter "
                  "TorchNAdam computes it)"),
    OptimizerSpec("adamax", "adamax", ADAM + (("weight_decay", 0.0),),
                  "Keras's defaults; torch adds epsilon inside the max, Keras after it"),
    OptimizerSpec("amsgrad", "amsgrad", ADAM + (("weight_decay", 0.0),),
                  "Adam(amsgrad=True), Keras's defaults; epsilon as Adam's in each"),
    OptimizerSpec("adadelta", "adadelta", (("learning_rate", 1.0), ("rho", 0.95), ("epsilon", 1e-6),
                                           ("weight_decay", 0.0)),
                  "torch's learning rate 1.0 (Keras's default 0.001 barely moves); one formula in both"),
)

OPTIMIZER_SPECS: dict[str, OptimizerSpec] = {spec.name: spec for spec in _SPECS}


def refused_by(name: str, convention: str) -> str | None:
    """Why the framework of ``convention`` cannot take the setting ``name`` (the reference refuses what its
    framework refuses: Keras's Nadam has no momentum_decay), or None."""
    spec = get_optimizer_spec(name)
    try:
        get_optimizer(spec.optimizer, convention=convention, **spec.hyperparameters)
    except ValueError as exc:
        return f"the optimizer setting {name!r} under {convention}'s convention: {exc}"
    return None


def get_optimizer_spec(name: str) -> OptimizerSpec:
    try:
        return OPTIMIZER_SPECS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(OPTIMIZER_SPECS)}") from None
