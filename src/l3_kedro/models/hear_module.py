"""Any HEAR 2021 module as a clip embedder: ``embed.models.<name>: {kind: hear, ...}``.

A HEAR module (https://hearbenchmark.com/hear-api.html) exposes
``load_model(model_file_path="")``, which returns a ``torch.nn.Module`` or a
``tf.Module`` with ``sample_rate`` and ``timestamp_embedding_size``, and
``get_timestamp_embeddings(audio, model) -> (embeddings, timestamps)`` for
audio (n_sounds, n_samples) in [-1, 1] at that rate, embeddings
(n_sounds, T, D) and timestamps (n_sounds, T) in milliseconds, window
centres. :class:`HearClipEmbedder` puts each clip through it and keeps the
timestamp embeddings as the clip's windows, so a HEAR embedding goes through
the same store, ``downstream_eval`` protocol, MLflow runs and Wilcoxon tests
as every other embedding.

The HEAR API has no hop parameter: modules return embeddings at their own
resolution (often every 25 or 50 ms). The embedder keeps every k-th
timestamp, ``k = max(1, round(hop_size / module hop))``, so that windows
are as far apart as the ``embed`` hop (1 s in the embedded default, 0.1 s
in the paper's protocol): a 50 ms module at a 1 s hop keeps the windows
centred on 0, 1, 2, ... s. Options a module's ``load_model`` takes beyond
the file path (``l3_kedro.hear``'s ``hop_size``, say, to skip the
computation of the dropped windows) go in ``load_options``.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from l3_kedro.audio.windows import count_windows, mono_float32
from l3_kedro.errors import AudioError, ModelError, ParameterError

__all__ = ["HearClipEmbedder", "load_hear_module"]

HEAR_FUNCTIONS = ("load_model", "get_timestamp_embeddings")
"""What a module must define to be used here (scene embeddings are not needed)."""


def load_hear_module(module_name: str, *, parameter: str = "module") -> Any:
    """Import a HEAR module by name, checking it has the API's functions.

    Raises
    ------
    ModelError
        The module cannot be imported, or lacks ``load_model`` or
        ``get_timestamp_embeddings``; the message names `parameter`.
    """
    if not isinstance(module_name, str) or not module_name:
        raise ParameterError(
            f"Parameter '{parameter}' must name an importable HEAR module "
            f"(e.g. 'l3_kedro.hear'), got {module_name!r}."
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ModelError(
            f"HEAR module {module_name!r} (parameter '{parameter}') cannot be imported "
            f"({error}); install it into this environment (pip install ...)."
        ) from error
    missing = [name for name in HEAR_FUNCTIONS if not callable(getattr(module, name, None))]
    if missing:
        raise ModelError(
            f"{module_name!r} (parameter '{parameter}') is not a HEAR 2021 module: "
            f"it has no {', '.join(missing)}."
        )
    return module


class HearClipEmbedder:
    """A HEAR 2021 module's timestamp embeddings as the windows of each clip.

    Parameters
    ----------
    name : str
        Name of the embedding (catalog and results key).
    module : str
        Importable name of the HEAR module (``l3_kedro.hear``,
        ``hearbaseline``, ...).
    weights : str, optional
        ``model_file_path`` for the module's ``load_model``; absent or
        empty calls ``load_model()`` (the module's default model).
    load_options : dict, optional
        Further keyword arguments for ``load_model``.

    Attributes
    ----------
    sample_rate : int
        The model's ``sample_rate`` (Hz): clips are decoded at this rate.
    embedding_size : int
        The model's ``timestamp_embedding_size`` (D).
    default_hop_size : float
        1.0 s (the embedded default's hop; the store records the one used).
    attributes : dict
        ``name``, ``kind`` ("hear"), ``module``, ``weights``, ``sample_rate``,
        ``embedding_size``.
    """

    default_hop_size = 1.0

    def __init__(
        self,
        *,
        name: str,
        module: str,
        weights: str | None = None,
        load_options: dict[str, Any] | None = None,
    ) -> None:
        where = f"embed.models.{name}"
        self._module = load_hear_module(module, parameter=f"{where}.module")
        options = dict(load_options or {})
        try:
            self.model = (
                self._module.load_model(str(weights), **options)
                if weights
                else self._module.load_model(**options)
            )
        except Exception as error:
            raise ModelError(
                f"{module}.load_model({str(weights or '')!r}) failed for '{where}': "
                f"{type(error).__name__}: {error}"
            ) from error
        self.name = name
        self.sample_rate = _positive_int(self.model, "sample_rate", module)
        self.embedding_size = _positive_int(self.model, "timestamp_embedding_size", module)
        self._torch = _is_torch_module(self.model)
        self.attributes: dict[str, Any] = {
            "name": name,
            "kind": "hear",
            "module": module,
            "weights": str(weights or ""),
            "sample_rate": self.sample_rate,
            "embedding_size": self.embedding_size,
        }

    def embed(
        self, audio: np.ndarray, sr: int, *, hop_size: float, center: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embed one clip.

        Parameters
        ----------
        audio : np.ndarray [shape=(n,) or (channels, n), floating]
            The clip at `sr`, which must be the model's ``sample_rate``.
        sr : int
            Its sample rate in Hz.
        hop_size : float > 0
            Seconds wanted between windows: every k-th timestamp is kept
            (see the module docstring).
        center : bool
            Ignored: HEAR timestamps are window centres as the module
            places them (normally the first at 0 ms).

        Returns
        -------
        embeddings : np.ndarray [shape=(T, D), dtype=float32]
        timestamps : np.ndarray [shape=(T,), dtype=float64]
            Window centres in **seconds**.

        Raises
        ------
        AudioError
            Empty, non-float or non-finite audio, or non-finite embeddings
            (the clip is skipped under ``on_error: skip``).
        ModelError
            The module's output has the wrong shape (every clip would fail).
        ParameterError
            `sr` is not the model's rate or `hop_size` is not positive.
        """
        if sr != self.sample_rate:
            raise ParameterError(
                f"{self.name}: audio at {sr} Hz, but the HEAR model takes {self.sample_rate} Hz."
            )
        count_windows(1, self.sample_rate, hop_size=hop_size)  # validates hop_size
        wave = mono_float32(np.asarray(audio))  # AudioError if empty or not floating-point
        if not np.isfinite(wave).all():
            raise AudioError("audio holds NaN or Inf samples.")
        embeddings, timestamps = self._call(wave[None, :])
        step = _step(timestamps, hop_size)
        return embeddings[::step], timestamps[::step]

    def _call(self, sounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The module on (1, n) audio -> (T, D) float32 embeddings, (T,) seconds."""
        if self._torch:
            import torch

            device = next(iter(self.model.parameters()), torch.empty(0)).device
            with torch.no_grad():
                out = self._module.get_timestamp_embeddings(
                    torch.from_numpy(sounds).to(device), self.model
                )
        else:
            import tensorflow as tf

            out = self._module.get_timestamp_embeddings(tf.constant(sounds), self.model)
        embeddings, timestamps = (_to_numpy(value) for value in out)
        n_timestamps = timestamps.shape[-1]
        if timestamps.shape != (1, n_timestamps) or embeddings.shape != (
            1,
            n_timestamps,
            self.embedding_size,
        ):
            raise ModelError(
                f"{self.attributes['module']}.get_timestamp_embeddings returned embeddings "
                f"{embeddings.shape} and timestamps {timestamps.shape} for one sound; expected "
                f"(1, T, {self.embedding_size}) and (1, T)."
            )
        if not np.isfinite(embeddings).all():
            raise AudioError(f"{self.attributes['module']} returned non-finite embeddings.")
        return embeddings[0].astype(np.float32), timestamps[0].astype(np.float64) / 1000.0


def _step(timestamps: np.ndarray, hop_size: float) -> int:
    """Keep every k-th of `timestamps` (s) so that they are about `hop_size` apart."""
    if len(timestamps) < 2:
        return 1
    module_hop = float(np.median(np.diff(timestamps)))
    if module_hop <= 0:
        return 1
    return max(1, round(hop_size / module_hop))


def _positive_int(model: Any, attribute: str, module: str) -> int:
    value = getattr(model, attribute, None)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ModelError(
            f"The model from {module}.load_model has no positive integer '{attribute}' "
            f"(got {value!r}), which the HEAR API requires."
        )
    return int(value)


def _is_torch_module(model: Any) -> bool:
    """Whether `model` is a ``torch.nn.Module`` (without importing torch for a TF model)."""
    return any(
        cls.__module__.startswith("torch.nn") and cls.__name__ == "Module"
        for cls in type(model).__mro__
    )


def _to_numpy(value: Any) -> np.ndarray:
    """A TensorFlow, PyTorch or NumPy result as a NumPy array."""
    if hasattr(value, "detach"):  # torch
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy"):  # tf
        return value.numpy()
    return np.asarray(value)
