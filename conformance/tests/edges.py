"""The numerical edges as data: lessons whose weights and data are written in their declaration.

Run through every check by ``test_edges.py``, and by ``tools/mutation_oracle.py`` before the catalog.
"""

from __future__ import annotations

from conformance.lessons import Lesson

NAN, INF = float("nan"), float("inf")


def edge(name, sizes, activations, loss, params, X, y, about):
    return Lesson(name=name, sizes=sizes, activations=activations, loss=loss, init="zeros", dataset="given",
                  fixed_params=params, dataset_args=(("X", X), ("y", y)), seed_text=about)


EDGES = {e.name: e for e in (
    edge("sigmoid-bce-at-1000", (1, 1), ("sigmoid",), "bce",
         (("W1", ((1.0,),)), ("b1", (0.5,))), ((1000.0,), (-1000.0,), (1000.0,), (-1000.0,)),
         ((1.0,), (0.0,), (0.0,), (1.0,)),
         "logits +-1000.5 through a sigmoid into BCE: p is exactly 1 or 0, half right, half wrong"),
    edge("softmax-cce-at-1000", (1, 2), ("softmax",), "cce",
         (("W1", ((1.0, -1.0),)), ("b1", (0.5, -0.5))), ((1000.0,), (-1000.0,)), ((0.0, 1.0), (1.0, 0.0)),
         "logits +-1000.5 through a softmax into categorical CE: p is exactly one-hot, and wrong"),
    edge("bce-with-logits-at-1000", (1, 1), ("linear",), "bce_logits",
         (("W1", ((1.0,),)), ("b1", (0.5,))), ((1000.0,), (-1000.0,), (1000.0,), (-1000.0,)),
         ((1.0,), (0.0,), (0.0,), (1.0,)), "BCE from logits of +-1000.5: exact in every framework"),
    edge("bce-on-probabilities-0-and-1", (1, 1), ("linear",), "bce",
         (("W1", ((0.5,),)), ("b1", (0.5,))), ((1.0,), (-1.0,), (1.0,), (-1.0,)), ((1.0,), (0.0,), (0.0,), (1.0,)),
         "BCE on probabilities of exactly 1 and 0 (a linear output): torch clamps log at -100, "
         "Keras clips p to [1e-7, 1 - 1e-7]"),
    edge("relu-at-its-kink", (1, 2, 1), ("relu", "linear"), "mse",
         (("W1", ((0.5, 1.0),)), ("b1", (-0.5, 0.25)), ("W2", ((1.0,), (1.0,))), ("b2", (0.1,))),
         ((1.0,), (-1.0,), (2.0,)), ((1.0,), (0.0,), (2.0,)), "z = 0.5 * 1 - 0.5 = 0 exactly: relu'(0) = 0"),
    edge("leaky-relu-at-its-kink", (1, 2, 1), ("leaky_relu", "linear"), "mse",
         (("W1", ((0.5, 1.0),)), ("b1", (-0.5, 0.25)), ("W2", ((1.0,), (1.0,))), ("b2", (0.1,))),
         ((1.0,), (-1.0,), (2.0,)), ((1.0,), (0.0,), (2.0,)), "z = 0 exactly: leaky_relu'(0) = slope"),
)}

# NaN and inf inputs: every framework and the reference propagate them alike (compare
# counts NaN against NaN as equal), for forward and gradients.
NONFINITE_X = ((NAN, 1.0), (INF, 1.0), (-INF, 1.0), (1.0, 2.0))
NONFINITE_PARAMS = (("W1", ((1.0, -1.0, 0.0), (0.5, 0.5, 0.5))), ("b1", (0.1, 0.2, 0.3)),
                    ("W2", ((1.0, 0.0), (0.5, -1.0), (1.0, 1.0))), ("b2", (0.1, -0.1)))
NONFINITE = {e.name: e for e in (
    edge("nan-inf-relu-softmax-cce", (2, 3, 2), ("relu", "softmax"), "cce", NONFINITE_PARAMS, NONFINITE_X,
         ((1.0, 0.0), (0.0, 1.0), (1.0, 0.0), (0.0, 1.0)), "NaN, +inf and -inf inputs"),
    edge("nan-inf-tanh-sigmoid-mse", (2, 3, 2), ("tanh", "sigmoid"), "mse", NONFINITE_PARAMS, NONFINITE_X,
         ((1.0, 1.0),) * 4, "NaN, +inf and -inf inputs"),
    edge("nan-inf-leaky-relu-linear-mse", (2, 3, 2), ("leaky_relu", "linear"), "mse", NONFINITE_PARAMS,
         NONFINITE_X, ((1.0, 1.0),) * 4, "NaN, +inf and -inf inputs"),
)}


EDGE_CHECKS = ("forward", "loss", "gradients", "step")  # one step: an edge is a point, not a training run
