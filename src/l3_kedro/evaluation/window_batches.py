"""Float16 window features served to the MLP in float32 batches, never copied whole."""

from __future__ import annotations

import numpy as np


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

    def epoch_rows(self) -> np.ndarray:
        """Row of every window in this epoch's visiting order, batch after batch.

        Returns
        -------
        np.ndarray [shape=(n,), int32]
            Batch ``i`` is ``rows[i * batch_size : (i + 1) * batch_size]``, the
            rows of ``self[i]``.
        """
        n = len(self.targets)
        if self._order is None:
            return np.arange(n, dtype=np.int32)
        cuts = range(0, n, self.batch_size)
        return np.concatenate([np.sort(self._order[c : c + self.batch_size]) for c in cuts]).astype(
            np.int32
        )

    def on_epoch_end(self) -> None:
        self._order = self._next_order()
