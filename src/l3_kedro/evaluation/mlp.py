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
of ``train_on_batch`` with early stopping written out (no ``fit``), because
``fit`` on a Python data source goes through ``tf.data.Dataset.from_generator``,
whose registered generator keeps every fold's feature matrix alive.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import keras
import numpy as np

logger = logging.getLogger(__name__)

HIDDEN_UNITS = (512, 128)
"""Widths of the two hidden ReLU layers (paper section 3.2)."""

EARLY_STOPPING_MONITOR = "val_cross_entropy"
"""Quantity early stopping watches: the window-level validation cross-entropy
(data term only, without the L2 penalty), lower is better."""

PREDICT_BATCH = 1024
"""Windows per forward pass at prediction time."""


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


class WindowBatches:
    """Batches of float16 window features, cast to float32, with their targets.

    A plain sequence rather than a ``keras.utils.PyDataset``: Keras turns a
    PyDataset into ``tf.data.Dataset.from_generator``, whose generator
    TensorFlow keeps registered, and with it the fold's whole matrix, after
    training ends.

    Parameters
    ----------
    features : np.ndarray [shape=(n, D)], float16 or float32
        Held by reference, never copied whole.
    targets : np.ndarray [shape=(n,)], int
    batch_size : int
    seed : int, optional
        If given, windows are visited in a new random order every epoch
        (reproducible from ``seed``); else in order.
    """

    def __init__(
        self,
        features: np.ndarray,
        targets: np.ndarray,
        *,
        batch_size: int,
        seed: int | None = None,
    ) -> None:
        self.features = features
        self.targets = np.asarray(targets, dtype=np.int32)
        self.batch_size = batch_size
        self._rng = None if seed is None else np.random.default_rng(seed)
        self._order = self._next_order()

    def _next_order(self) -> np.ndarray | None:
        return None if self._rng is None else self._rng.permutation(len(self.targets))

    def __len__(self) -> int:
        return (len(self.targets) + self.batch_size - 1) // self.batch_size

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        window = slice(index * self.batch_size, (index + 1) * self.batch_size)
        rows = window if self._order is None else np.sort(self._order[window])
        return self.features[rows].astype(np.float32), self.targets[rows]

    def on_epoch_end(self) -> None:
        self._order = self._next_order()


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
        history, best, best_weights, waited = [], 0, None, 0
        for epoch in range(epochs):
            self.model.reset_metrics()
            for i in range(len(batches)):
                loss = self._train_on_batch(*batches[i])
            batches.on_epoch_end()
            history.append(self.cross_entropy(x_val, y_val))
            logger.debug(
                "epoch %d: training loss %.4f, validation cross-entropy %.4f",
                epoch + 1,
                loss,
                history[-1],
            )
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

    def _train_on_batch(self, x: np.ndarray, y: np.ndarray) -> float:
        """One gradient step; returns the mean training loss of the epoch so far.

        On TensorFlow the compiled step is called directly, and the metrics are
        reset once per epoch (by :meth:`train`) rather than before every step
        as ``train_on_batch`` does: those eager resets alone took a quarter of
        the downstream protocol's time on a 2-core CPU (py-spy). Same arithmetic.
        """
        if keras.backend.backend() != "tensorflow":
            return float(self.model.train_on_batch(x, y, return_dict=True)["loss"])
        self.model.make_train_function()
        logs = self.model.train_function(iter([(x, y, None)]))
        return float(keras.ops.convert_to_numpy(logs["loss"]))

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
            logs = self.model.test_on_batch(x, y, return_dict=True)
            total += float(logs["cross_entropy"]) * len(y)
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
