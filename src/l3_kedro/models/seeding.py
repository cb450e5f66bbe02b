"""Build Keras models with reproducible random weights, whatever other threads do."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["keras_seeded"]


@contextmanager
def keras_seeded(seed: int) -> Iterator[None]:
    """``keras.utils.set_random_seed(seed)``, with Keras' default seeds drawn from a
    private ``random.Random(seed)`` (the same numbers) until the block ends.

    Keras draws each unseeded initializer's seed from Python's global
    ``random``, which other threads of the process may draw from too (a Dask
    worker's do, all the time): the weights would then depend on timing.
    """
    import keras
    from keras.src.random import seed_generator

    keras.utils.set_random_seed(seed)
    shared = seed_generator.python_random
    seed_generator.python_random = random.Random(seed)
    try:
        yield
    finally:
        seed_generator.python_random = shared
