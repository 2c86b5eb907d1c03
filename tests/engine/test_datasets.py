"""The lessons' datasets: what the seeds build, the same numbers every time, shapes that fit every lesson."""

from __future__ import annotations

import numpy as np
import pytest

from conformance import datasets
from conformance.lessons import LESSONS


def seed_make_spiral(n_per_class=100, noise=0.1, seed=0):
    """The spiral lesson's own generator, as the seed writes it."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for cls in range(2):
        t = np.linspace(0, 1, n_per_class)
        angle = t * 3 * np.pi + cls * np.pi
        r = t
        X.append(np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1))
        y.extend([cls] * n_per_class)
    X = np.vstack(X) + rng.normal(0, noise, (2 * n_per_class, 2))
    y = np.array(y)
    return X, y


def test_spiral_is_the_seeds_spiral():
    X, y = datasets.load("spiral")
    X_seed, y_seed = seed_make_spiral(n_per_class=150, noise=0.15, seed=42)
    np.testing.assert_array_equal(X, X_seed)  # the same formula, vectorised: the same bits
    np.testing.assert_array_equal(y.ravel(), y_seed)


def test_truth_tables():
    X, y = datasets.load("xor")
    np.testing.assert_array_equal(y.ravel(), np.logical_xor(X[:, 0], X[:, 1]))
    X, y = datasets.load("and")
    np.testing.assert_array_equal(y.ravel(), np.logical_and(X[:, 0], X[:, 1]))


@pytest.mark.parametrize("name", ["circles", "moons"])
def test_split_and_scaled_like_the_circles_lesson(name):
    """make_*(1000) -> train_test_split(0.2) -> StandardScaler fit on the training split only."""
    X_train, y_train = datasets.load(name)
    X_test, y_test = datasets.load(f"{name}_test")
    assert X_train.shape == (800, 2) and X_test.shape == (200, 2)
    assert y_train.shape == (800, 1) and set(np.unique(np.vstack([y_train, y_test]))) == {0.0, 1.0}
    np.testing.assert_allclose(X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X_train.std(axis=0), 1, atol=1e-12)
    assert np.abs(X_test.mean(axis=0)).max() > 1e-6  # scaled with the training statistics, not its own
    assert not (X_test[:, None, :] == X_train[None, :, :]).all(axis=2).any(), "a test point is a training point"


def test_sensor_has_three_standardised_classes():
    X, y = datasets.load("sensor")
    assert X.shape == (300, 2) and y.shape == (300, 3)
    np.testing.assert_array_equal(y.sum(axis=0), [100, 100, 100])
    np.testing.assert_array_equal(y.sum(axis=1), 1)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)


def test_tabular3_fits_the_3_4_1_lesson():
    X, y = datasets.load("tabular3")
    assert X.shape == (400, 3) and y.shape == (400, 1)
    np.testing.assert_allclose(X.std(axis=0), 1, atol=1e-12)


def test_loaded_arrays_are_read_only_and_repeat():
    X, y = datasets.load("moons")
    with pytest.raises(ValueError):
        X[0, 0] = 1.0
    np.testing.assert_array_equal(datasets.moons()[0], X)  # built again from scratch: the same numbers


def test_unknown_dataset_is_named():
    with pytest.raises(ValueError, match="unknown dataset 'moon'"):
        datasets.load("moon")


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_every_lesson_s_data_fits_its_network(lesson):
    spec = LESSONS[lesson]
    for name in {spec.dataset, spec.test_dataset or spec.dataset}:
        X, y = datasets.load(name)
        assert X.shape[1] == spec.sizes[0], f"{lesson}: {name} has {X.shape[1]} features"
        assert y.shape == (X.shape[0], spec.sizes[-1]), f"{lesson}: {name} targets {y.shape}"
