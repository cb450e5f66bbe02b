"""The paper's downstream classifier: one MLP on window features, retrained per grid point.

Dense 512 ReLU -> Dense 128 ReLU -> Dense K softmax, with an L2 penalty
``weight_decay * sum(w ** 2)`` on every kernel (as Keras ``L2`` and the
authors' code), trained with Adam on the sparse categorical cross-entropy of
single windows. Features are held as float16 and cast to float32 one batch at
a time by :class:`WindowBatches`, so training never copies the fold's matrix.

Keras on TensorFlow keeps memory of every model it has trained alive (about
three times the weights, 45 MB per 6144-dim MLP; keras-team/keras#17458), which
over 10 folds x 9 grid points would grow by 4 GB. :class:`DownstreamMLP`
therefore builds and compiles the network once and resets its weights and
Adam state for each training run; the learning rate and the weight decay are
variables that the compiled training step reads. The epochs are a plain loop
with early stopping written out (no ``fit``), because ``fit`` on a Python data
source goes through ``tf.data.Dataset.from_generator``, whose registered
generator keeps every fold's feature matrix alive. On TensorFlow, a fold small
enough (:data:`FUSED_EPOCH_MAX_BYTES`) trains each epoch and scores its
validation windows in one compiled call; larger ones step batch by batch.
On TensorFlow the step is the MLP's own (:meth:`DownstreamMLP._train_step`:
the compiled loss, Keras' Adam as one kernel per weight, no metrics): 3.7 ->
2.3 ms per step of 64 windows of 768 dims on a 2-core CPU.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import keras
import numpy as np

from l3_kedro.evaluation.fused_adam import FusedAdam
from l3_kedro.evaluation.window_batches import WindowBatches

logger = logging.getLogger(__name__)

HIDDEN_UNITS = (512, 128)
"""Widths of the two hidden ReLU layers (paper section 3.2)."""

EARLY_STOPPING_MONITOR = "val_cross_entropy"
"""Quantity early stopping watches: the window-level validation cross-entropy
(data term only, without the L2 penalty), lower is better."""

PREDICT_BATCH = 1024
"""Windows per forward pass at prediction time."""

FUSED_EPOCH_MAX_BYTES = 256 * 2**20
"""Largest training plus validation feature matrix (bytes) that
:meth:`DownstreamMLP.train` copies into TensorFlow once per run, to train each
epoch and score its validation windows in one compiled call; larger matrices
(paper scale) train batch by batch without a copy. Same arithmetic either way."""


@keras.saving.register_keras_serializable(package="l3_kedro")
class WeightDecay(keras.regularizers.Regularizer):
    """L2 penalty ``factor * sum(w ** 2)`` whose factor may be a (shared) variable.

    Parameters
    ----------
    factor : float or keras.Variable
        A variable can be reassigned between training runs without rebuilding
        or recompiling the model.
    """

    def __init__(self, factor: float | keras.Variable) -> None:
        self.factor = factor

    def __call__(self, weights):
        return keras.ops.cast(self.factor, weights.dtype) * keras.ops.sum(keras.ops.square(weights))

    def get_config(self) -> dict:
        return {"factor": float(keras.ops.convert_to_numpy(self.factor))}


def build_mlp(
    *, input_dim: int, n_classes: int, weight_decay: float | keras.Variable
) -> keras.Model:
    """The downstream MLP, not compiled.

    Parameters
    ----------
    input_dim : int
        Embedding size D.
    n_classes : int
        Output classes K.
    weight_decay : float or keras.Variable
        L2 factor on every kernel (biases are not penalised), see :class:`WeightDecay`.

    Returns
    -------
    keras.Model
        (batch, D) float32 -> (batch, K) class likelihoods (softmax).
    """
    inputs = keras.Input(shape=(input_dim,), dtype="float32", name="embedding")
    x = inputs
    widths = [*HIDDEN_UNITS, n_classes]
    names = [f"hidden{i}" for i in range(1, len(HIDDEN_UNITS) + 1)] + ["likelihoods"]
    for units, name in zip(widths, names, strict=True):
        x = keras.layers.Dense(
            units,
            activation="softmax" if name == "likelihoods" else "relu",
            kernel_regularizer=WeightDecay(weight_decay),
            name=name,
        )(x)
    return keras.Model(inputs, x, name="downstream_mlp")


def _on_tensorflow() -> bool:
    return keras.backend.backend() == "tensorflow"


def _lower(value: float, best: float) -> bool:
    """Whether ``value`` improves on ``best``; NaN never does, anything beats a NaN best."""
    return bool(value < best or (np.isnan(best) and not np.isnan(value)))


@dataclass(frozen=True)
class TrainingRun:
    """How the training of one MLP went.

    Attributes
    ----------
    epochs_run : int
        Epochs trained before early stopping (at most ``epochs``).
    best_epoch : int
        1-based epoch whose weights were restored (lowest validation cross-entropy).
    val_cross_entropy : float
        Window-level validation cross-entropy at ``best_epoch``.
    """

    epochs_run: int
    best_epoch: int
    val_cross_entropy: float


class DownstreamMLP:
    """The downstream MLP, compiled once and trained afresh for every grid point.

    Parameters
    ----------
    input_dim : int
        Embedding size D.
    n_classes : int
        Output classes K.

    Attributes
    ----------
    model : keras.Model
        See :func:`build_mlp`; its weights are those of the last training run
        (best epoch restored) or of the last :meth:`set_weights`.
    """

    def __init__(self, *, input_dim: int, n_classes: int) -> None:
        self._weight_decay = keras.Variable(
            0.0, dtype="float32", trainable=False, name="weight_decay"
        )
        self.model = build_mlp(
            input_dim=input_dim, n_classes=n_classes, weight_decay=self._weight_decay
        )
        self._optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        self.model.compile(
            optimizer=self._optimizer,
            loss="sparse_categorical_crossentropy",
            metrics=[keras.metrics.SparseCategoricalCrossentropy(name="cross_entropy")],
        )
        self._optimizer.build(self.model.trainable_variables)
        self._epoch_function = None  # compiled on first use, see _fused_epochs
        self._adam = FusedAdam(self.model.trainable_variables) if _on_tensorflow() else None
        self._step_function = None  # compiled on first use, see _train_on_batch

    def reset(self, *, learning_rate: float, weight_decay: float, seed: int) -> None:
        """Fresh weights (Glorot-uniform kernels, zero biases) and Adam state.

        Parameters
        ----------
        learning_rate : float
        weight_decay : float
        seed : int
            Seeds the initial weights; the same seed gives the same weights.
        """
        dense = [layer for layer in self.model.layers if isinstance(layer, keras.layers.Dense)]
        for i, layer in enumerate(dense):
            init = keras.initializers.GlorotUniform(seed=seed + i)
            layer.kernel.assign(init(layer.kernel.shape))
            layer.bias.assign(keras.ops.zeros(layer.bias.shape))
        for variable in self._optimizer.variables:  # step count, moments
            variable.assign(keras.ops.zeros(variable.shape, dtype=variable.dtype))
        self._optimizer.learning_rate.assign(learning_rate)
        self._weight_decay.assign(weight_decay)
        if self._adam is not None:
            self._adam.reset(learning_rate=learning_rate)

    def train(
        self,
        *,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_val: np.ndarray,
        y_val: np.ndarray,
        learning_rate: float,
        weight_decay: float,
        epochs: int,
        patience: int,
        batch_size: int,
        seed: int,
    ) -> TrainingRun:
        """Train from scratch with early stopping on the validation windows.

        Parameters
        ----------
        x_train : np.ndarray [shape=(n_train, D)], float16 or float32
            Standardised training windows.
        y_train : np.ndarray [shape=(n_train,)], int
            Class position of each window (its clip's class).
        x_val, y_val : np.ndarray
            The same for the validation windows.
        learning_rate : float
            Adam's initial learning rate.
        weight_decay : float
            L2 factor, see :class:`WeightDecay`.
        epochs : int
            Maximum epochs.
        patience : int
            Training stops after ``patience`` epochs in a row without a lower
            :data:`EARLY_STOPPING_MONITOR` than the best so far (as Keras
            ``EarlyStopping``); the weights of the best epoch are restored.
        batch_size : int
            Windows per gradient step.
        seed : int
            Seeds the initial weights and the window order: the same inputs and
            seed give the same model.

        Returns
        -------
        TrainingRun
        """
        self.reset(learning_rate=learning_rate, weight_decay=weight_decay, seed=seed)
        batches = WindowBatches(x_train, y_train, batch_size=batch_size, seed=seed)
        fused = self._fused_epochs(x_train, y_train, x_val, y_val)
        history, best, best_weights, waited = [], 0, None, 0
        for epoch in range(epochs):
            self.model.reset_metrics()
            if fused is None:
                for i in range(len(batches)):
                    self._train_on_batch(*batches[i])
                history.append(self.cross_entropy(x_val, y_val))
            else:
                history.append(fused(batches.epoch_rows(), batch_size))
            batches.on_epoch_end()
            logger.debug("epoch %d: validation cross-entropy %.4f", epoch + 1, history[-1])
            if best_weights is None or _lower(history[-1], history[best]):
                best, best_weights, waited = epoch, self.get_weights(), 0
            else:
                waited += 1
                if waited >= patience:
                    break
        self.set_weights(best_weights)
        return TrainingRun(
            epochs_run=len(history), best_epoch=best + 1, val_cross_entropy=history[best]
        )

    def _train_on_batch(self, x: np.ndarray, y: np.ndarray) -> None:
        """One gradient step.

        On TensorFlow, :meth:`_train_step` compiled once (no metrics: Keras'
        ``train_on_batch`` resets and updates them around every step, which
        took a quarter of the downstream protocol's time on a 2-core CPU);
        elsewhere Keras' ``train_on_batch``. The same arithmetic either way.
        """
        if self._adam is None:
            self.model.train_on_batch(x, y)
            return
        if self._step_function is None:
            import tensorflow as tf

            self._step_function = tf.function(self._train_step, reduce_retracing=True)
        self._step_function(x, y)

    def _train_step(self, x, y) -> None:
        """One Adam step on the mean cross-entropy plus the L2 penalty (TensorFlow).

        The loss is the one ``compile`` gives Keras (sparse categorical
        cross-entropy of the softmax outputs, averaged over the batch, plus the
        kernels' :class:`WeightDecay` terms); the update is Keras' Adam
        (:class:`FusedAdam`). Keras' own ``train_step`` also updates its
        metrics every step; this step does only the training arithmetic (a
        third faster on a 2-core CPU for a 768-dim input).
        """
        import tensorflow as tf

        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            likelihoods = self.model(x, training=True)
            loss = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y, likelihoods))
            loss = loss + keras.ops.sum(keras.ops.stack(self.model.losses))
        self._adam.apply(tape.gradient(loss, [v.value for v in variables]))

    def _fused_epochs(self, x_train, y_train, x_val, y_val):
        """On TensorFlow, for matrices up to :data:`FUSED_EPOCH_MAX_BYTES`: a
        function ``(rows, batch_size) -> validation cross-entropy`` that runs a
        whole epoch in one compiled call (a step costs ~4 ms of Python and
        dispatch when called one by one, most of a small MLP's training time).

        The features are copied into tensors once per training run. The
        epoch's steps are those of :meth:`_train_on_batch` on ``WindowBatches``
        (``rows`` from :meth:`WindowBatches.epoch_rows`), and the validation
        score is that of :meth:`cross_entropy`. None elsewhere.
        """
        size = x_train.nbytes + x_val.nbytes
        if keras.backend.backend() != "tensorflow" or size > FUSED_EPOCH_MAX_BYTES:
            return None
        import tensorflow as tf

        if self._epoch_function is None:
            self._epoch_function = tf.function(self._epoch_graph, reduce_retracing=True)
        data = (tf.constant(x_train), tf.constant(y_train, tf.int32))
        data += (tf.constant(x_val), tf.constant(y_val, tf.int32))

        def run(rows: np.ndarray, batch_size: int) -> float:
            losses = self._epoch_function(data, tf.constant(rows), tf.constant(batch_size))
            return float(np.sum(losses.numpy(), dtype=np.float64) / len(y_val))

        return run

    def _epoch_graph(self, data, rows, batch_size):
        """Traced by :meth:`_fused_epochs`: train on ``rows`` batch by batch,
        then the validation windows' cross-entropies, shape (n_val,).
        ``data`` is ``(x_train, y_train, x_val, y_val)``."""
        import tensorflow as tf

        x, y, x_val, y_val = data
        n = tf.shape(rows)[0]
        for start in tf.range(0, n, batch_size):
            take = rows[start : start + batch_size]
            self._train_step(tf.cast(tf.gather(x, take), tf.float32), tf.gather(y, take))
        parts = tf.TensorArray(tf.float32, size=0, dynamic_size=True, infer_shape=False)
        for start in tf.range(0, tf.shape(y_val)[0], PREDICT_BATCH):
            index = start // PREDICT_BATCH
            chunk = tf.cast(x_val[start : start + PREDICT_BATCH], tf.float32)
            likelihoods = self.model(chunk, training=False)
            target = y_val[start : start + PREDICT_BATCH]
            parts = parts.write(
                index, keras.losses.sparse_categorical_crossentropy(target, likelihoods)
            )
        return parts.concat()

    def cross_entropy(
        self, features: np.ndarray, targets: np.ndarray, *, batch_size: int = PREDICT_BATCH
    ) -> float:
        """Mean sparse categorical cross-entropy of windows (no L2 term).

        Parameters
        ----------
        features : np.ndarray [shape=(n, D)], float16 or float32
        targets : np.ndarray [shape=(n,)], int
        batch_size : int

        Returns
        -------
        float
            In nats per window.
        """
        batches = WindowBatches(features, targets, batch_size=batch_size)
        total = 0.0
        for i in range(len(batches)):
            x, y = batches[i]
            likelihoods = self.model(x, training=False)
            losses = keras.losses.sparse_categorical_crossentropy(y, likelihoods)
            total += float(np.sum(keras.ops.convert_to_numpy(losses), dtype=np.float64))
        return total / len(targets)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the current weights."""
        return self.model.get_weights()

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Load weights from :meth:`get_weights`."""
        self.model.set_weights(weights)

    def predict(self, features: np.ndarray, *, batch_size: int = PREDICT_BATCH) -> np.ndarray:
        """Class likelihoods of windows, computed batch by batch.

        Parameters
        ----------
        features : np.ndarray [shape=(n, D)], float16 or float32
        batch_size : int

        Returns
        -------
        np.ndarray [shape=(n, K)], float32
            Softmax outputs; rows sum to 1.
        """
        parts = [
            keras.ops.convert_to_numpy(self.model(features[i : i + batch_size].astype(np.float32)))
            for i in range(0, len(features), batch_size)
        ]
        return np.concatenate(parts).astype(np.float32)
