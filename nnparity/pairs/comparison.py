"""``compare_models`` and ``assert_models_agree``: a torch model and a Keras model, compared quantity by quantity.

    result = compare_models(torch_model, keras_model, X, y,
                            torch_loss=nn.BCELoss(), keras_loss=keras.losses.BinaryCrossentropy(),
                            torch_optimizer=lambda p: torch.optim.SGD(p, lr=0.1),
                            keras_optimizer=keras.optimizers.SGD(0.1), steps=100, dtype="float64")

1. Both models are read into layer specs and paired (``specs.py``, ``pairing.py``): an unsupported
   layer, or layers with weights that do not pair up, raise ``PairError`` naming the layer and its position.
2. The torch model's weights are copied into a Keras rebuild (``keras_side.py``), both in ``dtype``.
3. Every quantity of one training step and of ``steps`` steps (full batch, or ``batch_size`` samples in
   order) is compared torch against Keras at the suite's tolerances (``walk.py``); the first that
   disagrees is the first divergence.
4. If they disagree: where conventions without a setting apply (Adam's and AMSGrad's epsilon-hat,
   RMSprop's, Adagrad's and Adamax's epsilon, Nadam's float32 0.96, GELU's and leaky_relu's float32 constants, SELU'(0),
   hardtanh at its bounds, BatchNorm's running variance: ``torch_follow.py``), torch is made to follow
   Keras's formula; agreeing then, the result is
   ``known``; so is a float32 pair whose trajectory parts only after float32 rounding put a ReLU
   input on either side of its kink (``kinks.py``). Otherwise every difference of settings found
   (``explain.py``) is named with its fix, and each fix is tried by running the pair again with it.
"""

from __future__ import annotations

import numpy as np

from . import explain_activations, explain_optimizers
from .explain import Explanation, loss_explanations, norm_explanations, zero_gradient_explanations
from .kinks import kink_crossing
from .pairing import Pair, fold_into_loss
from .pairing import pair as pair_layers
from .result import PairResult
from .run import Inputs, Run, Settings, run
from .specs import PairError, keras_specs, torch_specs
from .torch_follow import SHORT, uncarried
from .torch_side import TORCH_DTYPES, optimizer_settings

DROPOUT_NOTE = ("Dropout runs off in both models (their masks come from different generators); the rates are "
                "compared instead (the config stage)")


def _validate(X, y, steps, dtype, batch_size) -> tuple[np.ndarray, np.ndarray]:
    if dtype not in TORCH_DTYPES:
        raise ValueError(f"compare_models: dtype must be one of {TORCH_DTYPES}. Received: {dtype!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"compare_models: steps must be a whole number of at least 1. Received: {steps!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                   or batch_size < 1):
        raise ValueError(f"compare_models: batch_size must be None (every step takes the whole data) or a whole "
                         f"number of at least 1. Received: batch_size={batch_size!r}")
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or len(y) != len(X):
        raise ValueError(f"compare_models: X must be (samples, features) and y have as many samples. "
                         f"Received: X of shape {X.shape}, y of shape {y.shape}")
    return X, y


def _without_setting(inputs: Inputs, pair: Pair, main: Run) -> list[Explanation]:
    """The conventions no setting changes that apply to this pair: each becomes a convention torch can follow."""
    trained = [c.max_abs_err for stage, c in main.comparisons.items() if stage in ("step", "trajectory")]
    found = explain_optimizers.without_setting(inputs, max(trained) if trained else None)
    found += explain_activations.without_setting(pair, main.torch_values, inputs.dtype)
    if pair.batchnorm:
        found.append(Explanation("batchnorm-running-variance", "step", "torch's running_var takes the batch's unbiased "
                                 "variance, Keras's moving_variance the biased one: with torch's made biased, the "
                                 "pair agrees", None, Settings(follow=frozenset({"biased-running-variance"}))))
    return found


def _following(inputs: Inputs, settings: Settings) -> set:
    """The conventions torch follows under ``settings``: an optimizer's adapter only where torch's optimizer,
    with the settings' changes, sets nothing the adapter leaves out (``torch_follow.uncarried``)."""
    group = {**optimizer_settings(inputs.torch_optimizer, inputs.torch_model)[1], **dict(settings.torch_optimizer)}
    return {f for f in settings.follow if not uncarried(f, group)}


def _verdict(inputs: Inputs, tried: Run) -> str:
    d = tried.divergence
    following = _following(inputs, tried.settings)
    base = f" (and torch following Keras's {' and '.join(sorted(SHORT.get(f, f) for f in following))})" \
        if following else ""
    if d is None:
        return f"with it{base}, the two models agree"
    return f"with it{base}, the two models still part at {d.quantity.name} ({d.quantity.stage})"


def _explain(inputs: Inputs, pair: Pair, main: Run, base: Settings) -> tuple[list[Explanation], str]:
    """Every difference of settings found, each fix tried on top of ``base``; and every fix at once."""
    last = main.torch_values.get(pair.points[-1].name)
    found = (norm_explanations(pair) + explain_activations.activation_explanations(pair, main.torch_values)
             + loss_explanations(inputs, pair, last) + explain_optimizers.optimizer_explanations(inputs)
             + zero_gradient_explanations(inputs, pair, main.torch_values))
    stage = main.divergence.quantity.stage if main.divergence is not None else None
    found.sort(key=lambda e: e.stage != stage)  # those that show where the pair parts first
    fixable = [e for e in found if e.settings is not None]
    for e in fixable:
        e.verdict = _verdict(inputs, run(inputs, pair, base.plus(e.settings)))
    together = ""
    if len(fixable) > 1:
        every = base
        for e in fixable:
            every = every.plus(e.settings)
        together = _verdict(inputs, run(inputs, pair, every))
    return found, together


def compare_models(torch_model, keras_model, X, y, *, torch_loss, keras_loss, torch_optimizer, keras_optimizer,
                   steps: int = 100, dtype: str = "float64", batch_size: int | None = None) -> PairResult:
    """Compare a torch ``nn.Sequential`` and a Keras chain: forward, loss, gradients, one step, ``steps`` steps.

    ``torch_optimizer`` is a callable taking the parameters (``lambda p: torch.optim.Adam(p, lr=1e-3)``),
    ``keras_optimizer`` a Keras optimizer (its class and settings are used on a fresh one). ``batch_size``:
    None, every step takes the whole data; an int, each step takes the next ``batch_size`` samples of X in
    their order (a shorter last batch, then from the start again), the same batches in both models: nothing
    is shuffled (shuffle X yourself before the call); the first step's quantities are the first batch's.
    Neither model is changed. Returns a ``PairResult``; raises ``PairError`` for models that cannot be paired.
    """
    X, y = _validate(X, y, steps, dtype, batch_size)
    pair = pair_layers(torch_specs(torch_model), keras_specs(keras_model))
    inputs = Inputs(torch_model, keras_model, X, y, torch_loss, keras_loss, torch_optimizer, keras_optimizer,
                    int(steps), dtype, None if batch_size is None else int(batch_size))
    folded = fold_into_loss(pair, torch_loss, keras_loss)
    main = run(inputs, pair)
    status, accounted, explanations, together, base = "passed", [], [], "", Settings()
    if not main.passed:
        status = "failed"
        accounted = _without_setting(inputs, pair, main)
        for e in accounted:
            base = base.plus(e.settings)
        tried = run(inputs, pair, base) if accounted else main
        kink = None if tried.passed else kink_crossing(inputs, pair, tried, tried.start)  # float32 rounding at a kink
        if kink is not None:
            accounted.append(kink)
        if (accounted and tried.passed) or kink is not None:
            status = "known"
        else:  # each fix is tried with torch following those conventions; they are named among the reasons
            explanations, together = _explain(inputs, pair, main, base)
            explanations += accounted
            accounted = []
    layers = [(p.name, " -> ".join(s.spec.where for s in p.torch) or "-", " -> ".join(
        s.spec.where + (" activation" if s.part == "activation" else "") for s in p.keras) or "-") for p in pair.points]
    notes = [*([folded] if folded else []), *main.notes, *([DROPOUT_NOTE] if pair.dropout_rates else [])]
    return PairResult(dtype, int(steps), status, main.comparisons, main.divergence, explanations, accounted,
                      layers, notes, together, inputs.batch_size)


def assert_models_agree(torch_model, keras_model, X, y, **options) -> PairResult:
    """``compare_models``, raising AssertionError with its report when the two models disagree."""
    result = compare_models(torch_model, keras_model, X, y, **options)
    if not result.passed:
        raise AssertionError(result.report())
    return result


__all__ = ["PairError", "compare_models", "assert_models_agree"]
