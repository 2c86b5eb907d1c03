"""Model pairs: a user's own PyTorch model and Keras model, compared quantity by quantity.

``compare_models`` / ``assert_models_agree`` (``comparison.py``) read each framework's model into an
ordered list of layer specs (``specs.py``, ``activation_specs.py``), pair them (``pairing.py``), copy
the torch weights into a Keras rebuild (``keras_side.py``; the one transpose is ``frameworks/layout.py``),
run both sides on the same batches (``torch_side.py``, ``run.py``), compare every quantity in the order
it is computed with the suite's one helper and tolerances (``walk.py``), and say why they disagree
(``explain.py``, ``explain_activations.py``, ``explain_optimizers.py``; Keras's conventions that torch
follows: ``torch_follow.py``) in a ``PairResult`` (``result.py``). Importing this package imports
neither framework.
"""

from .comparison import assert_models_agree, compare_models
from .result import PairResult
from .specs import PairError

__all__ = ["PairError", "PairResult", "assert_models_agree", "compare_models"]
