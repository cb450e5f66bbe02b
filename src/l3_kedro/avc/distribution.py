"""Where training runs: one device, mirrored over local GPUs, or multi-worker; mixed precision.

TensorFlow backend: ``tf.distribute`` strategies (the model is built and
loaded under the strategy's scope; Keras splits each batch over replicas).
JAX backend: ``keras.distribution.DataParallel`` over the local devices, or over
every process after ``keras.distribution.initialize()`` for multi-worker runs.

Mixed precision trains through :class:`ReplicaSafeLossScaleOptimizer`: Keras'
dynamic loss scaling, with the replicas agreeing on whether a step's
gradients are finite (Keras 3.15 lets each replica decide from its own
gradients, so when only some of them overflow, the all-reduced NaNs reach
the weights).
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


@keras.saving.register_keras_serializable(package="l3_kedro")
class ReplicaSafeLossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
    """Keras' ``LossScaleOptimizer``; under ``tf.distribute``, a step is applied
    only when the gradients of *every* replica are finite (else every replica
    skips it and the loss scale halves), never with another replica's NaNs."""

    def check_finite(self, grads):
        finite = super().check_finite(grads)
        if keras.backend.backend() != "tensorflow":
            return finite  # JAX: the gradients are already global arrays
        import tensorflow as tf

        if not tf.distribute.has_strategy() or tf.distribute.in_cross_replica_context():
            return finite
        context = tf.distribute.get_replica_context()
        if context.num_replicas_in_sync == 1:
            return finite
        overflowed = context.all_reduce(
            tf.distribute.ReduceOp.SUM, tf.cast(tf.logical_not(finite), tf.float32)
        )
        return tf.equal(overflowed, 0.0)


def training_optimizer(
    optimizer: keras.optimizers.Optimizer, model: keras.Model
) -> keras.optimizers.Optimizer:
    """``optimizer`` wrapped for loss scaling when ``model`` computes in float16."""
    if model.dtype_policy.name == "mixed_float16":
        return ReplicaSafeLossScaleOptimizer(optimizer)
    return optimizer


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
