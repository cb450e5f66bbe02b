"""Inference precision of an L3 audio tower: float32 (default) or bfloat16 compute.

``embed.precision: bfloat16`` runs the convolutions, batch norms and
poolings in bfloat16 (Keras's ``mixed_bfloat16`` policy: the weights stay
float32 and are rounded on the way in) while the spectrogram front-end stays
in its own precision (float64 by default: the dB scale needs it). On CPUs
with AVX512_BF16 or AMX and on GPUs with bfloat16 units the tower runs
faster (1.4-1.65x at width 1.0 on an AVX512_BF16 CPU,
``benchmarks/compare_torchopenl3.py --bfloat16``); elsewhere the rounding
is emulated and it is slower. Embeddings move by about 0.5-0.8 % of their size (mean absolute change)
(``benchmarks/fast_mode_accuracy.py --runs`` measures the downstream change
on real UrbanSound8K).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from l3_kedro.errors import ModelError, ParameterError

if TYPE_CHECKING:
    import keras

__all__ = ["PRECISIONS", "check_precision", "with_compute_precision"]

PRECISIONS = ("float32", "bfloat16")
"""Values of ``embed.precision`` (and of an ``embed.models`` entry's ``precision``);
the first is the default."""

_BFLOAT16_POLICY = "mixed_bfloat16"  # compute in bfloat16, variables in float32
_FRONTEND = "audio_frontend"
_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def check_precision(precision: object, *, parameter: str = "precision") -> str:
    """``precision`` if it is one of :data:`PRECISIONS`; else a ParameterError naming ``parameter``."""
    if precision not in PRECISIONS:
        raise ParameterError(
            f"Parameter '{parameter}' must be one of {PRECISIONS}, not {precision!r}."
        )
    return str(precision)


def with_compute_precision(model: keras.Model, precision: str) -> keras.Model:
    """An L3 audio embedding model whose tower computes in ``precision``.

    Parameters
    ----------
    model : keras.Model
        An L3 audio embedding model with its front-end (an ``audio_frontend``
        layer): (batch, 48000) audio -> (batch, D).
    precision : {"float32", "bfloat16"}

    Returns
    -------
    keras.Model
        ``model`` itself for float32. For bfloat16 a copy with the same
        layer names and float32 weights (copied), every layer after the
        front-end on the ``mixed_bfloat16`` policy; the front-end layer is
        shared. Its output is bfloat16: read it with ``np.asarray(...,
        dtype=np.float32)``. Made once per model (later calls return the
        same copy), so change no weights of ``model`` after.

    Raises
    ------
    ModelError
        ``model`` has no ``audio_frontend`` layer.
    """
    check_precision(precision)
    if precision == "float32":
        return model
    if model not in _COPIES:
        _COPIES[model] = _copy_in(model, precision)
    return _COPIES[model]


def _copy_in(model: keras.Model, precision: str) -> keras.Model:
    """The copy :func:`with_compute_precision` describes (not cached)."""
    import keras

    names = [layer.name for layer in model.layers]
    if _FRONTEND not in names:
        raise ModelError(
            f"Model {model.name!r} has no {_FRONTEND!r} layer: precision {precision!r} "
            "needs an L3 audio embedding model with its front-end."
        )
    after_frontend = set(names[names.index(_FRONTEND) + 1 :])

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        if layer.name not in after_frontend:
            return layer  # the input and the front-end: shared, in their own precision
        return layer.__class__.from_config({**layer.get_config(), "dtype": _BFLOAT16_POLICY})

    copy = keras.models.clone_model(model, clone_function=clone)
    for layer in copy.layers:
        if layer.name in after_frontend:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return copy
