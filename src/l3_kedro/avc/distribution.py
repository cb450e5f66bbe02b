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
import functools
import os
from collections.abc import Callable, Iterator
from typing import Any

import keras

from l3_kedro.avc.config import AvcTrainingConfig
from l3_kedro.errors import ParameterError


def _mean_logs_across_workers() -> None:
    """Make Keras' multi-worker ``fit`` and ``evaluate`` average their logs correctly.

    Keras 3 (3.15 here) averages each step's logs (loss, accuracy: scalars)
    across the workers of a ``MultiWorkerMirroredStrategy`` with
    ``strategy.reduce("MEAN", value, axis=0)``, which fails on a scalar
    ("Invalid reduction dimension 0 for input with 0 dimensions";
    tensorflow/tensorflow#72388), so no multi-worker ``fit`` runs. This
    averages them with ``axis=None`` (a mean over the workers, each value
    already its worker's mean); every other case goes to Keras unchanged.
    """
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer

    if getattr(trainer.reduce_per_replica, "l3_kedro_patch", False):
        return
    keras_reduce = trainer.reduce_per_replica

    def reduce_per_replica(values: Any, strategy: Any, reduction: str) -> Any:
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return keras_reduce(values, strategy, reduction)

    reduce_per_replica.l3_kedro_patch = True
    trainer.reduce_per_replica = reduce_per_replica


@functools.cache
def _tensorflow_strategy(distribution: str) -> Any:
    """One strategy per process: TensorFlow configures its collectives once."""
    import tensorflow as tf

    if distribution == "mirrored":
        return tf.distribute.MirroredStrategy()
    _mean_logs_across_workers()
    resolver = None
    if "TF_CONFIG" not in os.environ and "SLURM_JOB_ID" in os.environ:
        resolver = tf.distribute.cluster_resolver.SlurmClusterResolver()
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)


def strategy_scope(distribution: str) -> Callable[[], Any]:
    """Return a context-manager factory under which models are built.

    ``multi_worker`` on TensorFlow reads its cluster from ``TF_CONFIG`` (every
    worker runs the same ``kedro run`` with its own ``task``), or, in a SLURM
    job without ``TF_CONFIG``, from SLURM's variables
    (``SlurmClusterResolver``: one worker per task of ``srun``). Its strategy
    must exist before TensorFlow runs anything else in the process; it is
    made once and shared by every variant.

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
        return _tensorflow_strategy(distribution).scope
    if backend == "jax":
        if distribution == "multi_worker":
            keras.distribution.initialize()
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        return contextlib.nullcontext
    raise ParameterError(
        f"avc_training.training.distribution={distribution!r} needs the TensorFlow or JAX "
        f"Keras backend (this is {backend!r}); use one_device."
    )


def is_chief(distribution: str) -> bool:
    """Whether this process writes the training's files (work dir, checkpoints, MLflow).

    Every process but the chief of a TensorFlow ``multi_worker`` cluster
    (``chief``, else ``worker`` 0) trains without writing; JAX's process 0
    writes.
    """
    if distribution != "multi_worker":
        return True
    if keras.backend.backend() == "jax":
        import jax

        return jax.process_index() == 0
    resolver = _tensorflow_strategy(distribution).cluster_resolver
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type in (None, "chief"):
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and not has_chief


def build_from_local_batches(model: keras.Model) -> None:
    """Let ``fit`` and ``evaluate`` of ``model`` under ``tf.distribute`` take dict inputs.

    Before training, Keras 3.15's TensorFlow trainer builds a distributed
    model from its first batch, reduced over the replicas with
    ``strategy.reduce``, which takes one tensor, not a nest: the L3-Net's
    ``{"audio", "image"}`` inputs then fail on several replicas ("Attempt to
    convert a value ({'audio': PerReplica ...}) ... to a Tensor"). Only the
    shapes and dtypes matter to that build, so this model builds from this
    replica's share of the batch instead (no collective). A no-op without a
    strategy or on other backends.
    """
    if keras.backend.backend() != "tensorflow" or model._distribute_strategy is None:
        return
    import tensorflow as tf

    strategy = model._distribute_strategy

    def local(value: Any) -> Any:
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def build(iterator: Any = None, data_batch: Any = None) -> None:
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(local, next(batches))
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    model._maybe_symbolic_build = build


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
