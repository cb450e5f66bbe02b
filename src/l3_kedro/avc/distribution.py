"""Where training runs: one device, mirrored over local GPUs, or multi-worker; mixed precision.

TensorFlow backend: ``tf.distribute`` strategies (the model is built and
loaded under the strategy's scope; Keras splits each batch over replicas).
JAX backend: ``keras.distribution.DataParallel`` over the local devices, or over
every process after ``keras.distribution.initialize()`` for multi-worker runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import keras

from l3_kedro.avc.config import AvcTrainingConfig
from l3_kedro.errors import ParameterError


def strategy_scope(distribution: str) -> Callable[[], Any]:
    """Return a context-manager factory under which models are built.

    Parameters
    ----------
    distribution : {"one_device", "mirrored", "multi_worker"}

    Returns
    -------
    callable
        ``strategy.scope`` (TensorFlow) or ``contextlib.nullcontext``.
    """
    backend = keras.backend.backend()
    if distribution == "one_device":
        return contextlib.nullcontext
    if backend == "tensorflow":
        import tensorflow as tf

        if distribution == "mirrored":
            return tf.distribute.MirroredStrategy().scope
        return tf.distribute.MultiWorkerMirroredStrategy().scope
    if backend == "jax":
        if distribution == "multi_worker":
            keras.distribution.initialize()
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        return contextlib.nullcontext
    raise ParameterError(
        f"avc_training.training.distribution={distribution!r} needs the TensorFlow or JAX "
        f"Keras backend (this is {backend!r}); use one_device."
    )


@contextlib.contextmanager
def precision_policy(config: AvcTrainingConfig) -> Iterator[None]:
    """Build models under ``mixed_float16`` when ``config.mixed_precision`` (then restore)."""
    if not config.mixed_precision:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
