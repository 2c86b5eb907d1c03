"""Which samples each step sees: ``reference.MiniBatches`` against torch's ``DataLoader``.

Without shuffling the order is not random, so it can be compared with the framework
itself: ``DataLoader(TensorDataset(X), batch_size)`` (``shuffle=False``, ``drop_last=False``,
torch's defaults) yields the samples in order, cut into consecutive batches, the last
one smaller. ``MiniBatches(n, batch_size, shuffle=False)`` must give the same index
arrays, epoch after epoch. (Shuffled orders come from each library's own generator;
nnparity draws one order and hands it to all three, see ``reference/batches.py``.)
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.tests.support import needs
from reference import MiniBatches

from ..compare import assert_agree

# (n_samples, batch_size): a last batch that is smaller, one that is not, a batch larger than the data
SIZES = [(10, 3), (12, 4), (7, 10)]


def torch_batches(n_samples: int, batch_size: int, epochs: int) -> list[np.ndarray]:
    """The index arrays torch's DataLoader yields over ``epochs`` passes, with its defaults."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(torch.arange(n_samples)), batch_size=batch_size)
    return [idx.numpy() for _ in range(epochs) for (idx,) in loader]


def _items(batches: list[np.ndarray]) -> dict[str, np.ndarray]:
    return {f"batch{k}": np.asarray(b, dtype=np.int64) for k, b in enumerate(batches)}


@pytest.mark.parametrize("n_samples,batch_size", SIZES)
def test_unshuffled_batches_are_the_dataloader_s(n_samples, batch_size):
    needs("torch")
    reference = MiniBatches(n_samples, batch_size, shuffle=False)
    theirs = torch_batches(n_samples, batch_size, epochs=3)
    mine = reference.take(len(theirs))  # three epochs, running on from one epoch into the next
    assert len(theirs) == 3 * reference.steps_per_epoch
    assert_agree(_items(mine), _items(theirs), atol=0, rtol=0,  # indices: exactly equal
                 what=f"MiniBatches({n_samples}, {batch_size}, shuffle=False) vs DataLoader")


@pytest.mark.parametrize("n_samples", [1, 5])
def test_full_batch_is_one_dataloader_batch_of_everything(n_samples):
    """batch_size=None (the lessons' full-batch descent): one batch per epoch, every sample in order."""
    needs("torch")
    reference = MiniBatches(n_samples, None)
    assert_agree(_items(reference.take(2)), _items(torch_batches(n_samples, n_samples, epochs=2)), atol=0, rtol=0,
                 what="MiniBatches(n, None) vs DataLoader(batch_size=n)")


def test_zero_steps_are_no_batches():
    """take(0) is an empty schedule (a loader iterated zero times), not an error."""
    assert MiniBatches(10, 3).take(0) == []
