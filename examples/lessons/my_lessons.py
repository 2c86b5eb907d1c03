"""Lessons of my own, in Python: ``LESSONS`` is a list of nnparity's ``Lesson`` (docs/lesson-files.md).

    nnparity run --lessons examples/lessons/my_lessons.py
    python -m pytest conformance/tests --nnparity-lessons examples/lessons/my_lessons.py
"""

import numpy as np

from nnparity import Lesson


def rings():
    """My own data, made in code: two noisy rings, radius 1 (class 0) and 2 (class 1). Returns (X, y)."""
    rng = np.random.default_rng(0)
    radius = np.repeat([1.0, 2.0], 50)
    angle = rng.uniform(0.0, 2 * np.pi, 100)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]) + rng.normal(0.0, 0.1, (100, 2))
    return X, (radius == 2.0).astype(float)


LESSONS = [
    # A deeper network on the catalog's moons, judged after training on the moons' test split,
    # with Dropout after each hidden ReLU.
    Lesson(
        name="moons-2-10-10-1-dropout",
        sizes=(2, 10, 10, 1),
        activations=("relu", "relu", "sigmoid"),
        loss="bce",
        init="he_normal",
        dataset="moons",
        test_dataset="moons_test",
        dropout=0.1,
        hyper={"learning_rate": 0.1, "momentum": 0.9},  # a dict, or the catalog's (("learning_rate", 0.1),)
        epochs=300,
        seed_text="make_moons, two hidden layers of 10, Dropout(0.1), SGD with momentum",
    ),
    # Regression on my own data: a CSV file next to this one (columns x and y), a linear output and MSE.
    Lesson(
        name="sine-1-16-1",
        sizes=(1, 16, 1),
        activations=("tanh", "linear"),
        loss="mse",
        init="glorot_uniform",
        dataset="sine.csv",
        hyper={"learning_rate": 0.05},
        epochs=500,
        seed_text="fit y = sin(x) on [-3, 3] with one tanh layer",
    ),
    # Data from a function of this file (above), in mini-batches of 20.
    Lesson(
        name="rings-2-8-8-1",
        sizes=(2, 8, 8, 1),
        activations=("relu", "tanh", "sigmoid"),
        loss="bce",
        init="he_normal",
        dataset=rings,
        hyper={"learning_rate": 0.1},
        epochs=200,
        batch_size=20,
    ),
]
