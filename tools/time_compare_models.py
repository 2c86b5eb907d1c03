"""Time ``nnparity.compare_models`` on lesson-sized pairs, 100 steps, once the frameworks are imported.

    python tools/time_compare_models.py [--rounds 5]

Prints, for each pair, the first call (which traces the Keras step as a tf.function) and the median of
the next rounds. The pairs: the spiral lesson's 2-16-1 network on 64 points (SGD), the same with a
BatchNorm (a known result: two runs), and keras-4-64-32-1 with Adam (a known result: two runs).
docs/performance.md records the numbers.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import nnparity


def pairs():
    import torch
    from torch import nn

    import frameworks.keras_twin  # noqa: F401  (Keras's backend and TensorFlow's flags before Keras loads)
    import keras

    L, rng = keras.layers, np.random.default_rng(0)
    X2, X4 = rng.normal(size=(64, 2)), rng.normal(size=(64, 4))
    y2, y4 = (X2[:, :1] * X2[:, 1:] > 0).astype(float), rng.random((64, 1))
    torch.manual_seed(0)
    sgd = dict(torch_optimizer=lambda p: torch.optim.SGD(p, lr=0.05), keras_optimizer=keras.optimizers.SGD(0.05))
    bce = dict(torch_loss=nn.BCELoss(), keras_loss=keras.losses.BinaryCrossentropy())
    yield "spiral 2-16-1, SGD", (
        nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid()),
        keras.Sequential([keras.Input((2,)), L.Dense(16, activation="relu"), L.Dense(1, activation="sigmoid")]),
        X2, y2), {**sgd, **bce}
    yield "spiral 2-16-16-1 + BatchNorm, SGD", (
        nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.BatchNorm1d(16, momentum=0.01, eps=1e-3),
                      nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid()),
        keras.Sequential([keras.Input((2,)), L.Dense(16, activation="relu"), L.Dense(16), L.BatchNormalization(),
                          L.Activation("relu"), L.Dense(1, activation="sigmoid")]), X2, y2), {**sgd, **bce}
    yield "keras-4-64-32-1, Adam, MSE", (
        nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid()),
        keras.Sequential([keras.Input((4,)), L.Dense(64, activation="relu"), L.Dense(32, activation="relu"),
                          L.Dense(1, activation="sigmoid")]), X4, y4), dict(
        torch_loss=nn.MSELoss(), keras_loss=keras.losses.MeanSquaredError(),
        torch_optimizer=lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7), keras_optimizer=keras.optimizers.Adam(1e-3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for name, models, options in pairs():
        times = []
        for _ in range(args.rounds + 1):
            start = time.perf_counter()
            result = nnparity.compare_models(*models, steps=100, **options)
            times.append(time.perf_counter() - start)
        print(f"{name:<36} {result.status:<7} first call {times[0]:.2f} s, then median {statistics.median(times[1:]):.2f} s "
              f"(min {min(times[1:]):.2f}, max {max(times[1:]):.2f})")


if __name__ == "__main__":
    main()
