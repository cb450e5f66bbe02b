"""One small contract every embedding model plugs in through.

An *embedder* turns audio into a sequence of embeddings. Two shapes exist:

- a **window embedder** (L3-Net, hand-crafted features) embeds fixed 1 s
  windows: ``embed_windows(windows (B, sample_rate)) -> (B, D)``; the
  caller frames clips and batches windows across clips;
- a **clip embedder** (SoundNet) needs the whole clip:
  ``embed(audio, sr, *, hop_size, center) -> (embeddings (T, D), timestamps (T,))``.

Every embedder has ``name``, ``sample_rate`` (Hz), ``embedding_size`` (D),
``default_hop_size`` (s) and ``attributes`` (a dict describing it: kind,
input_repr, subset, samples_seen, ...), which follow it into the embedding
store and the results table. :func:`build_embedder` makes one from a
``parameters_embed.yml`` entry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from l3_kedro.audio.constants import DEFAULT_HOP_SIZE_S, TARGET_SR, VALID_INPUT_REPRS
from l3_kedro.errors import ModelError, ParameterError
from l3_kedro.models.constants import SOUNDNET_HOP_S, VALID_EMBEDDING_SIZES

FFT_DTYPES = ("float64", "float32")


@runtime_checkable
class WindowEmbedder(Protocol):
    """Embeds fixed windows; the caller frames clips and batches windows across them."""

    name: str
    sample_rate: float  # Hz
    embedding_size: int  # D
    window_s: float  # window length, s
    default_hop_size: float  # s
    attributes: dict[str, Any]

    def embed_windows(self, windows: np.ndarray) -> np.ndarray:
        """(B, window samples) float32 -> (B, D) float32."""
        ...


@runtime_checkable
class ClipEmbedder(Protocol):
    """Embeds a whole clip at once (e.g. SoundNet, whose receptive field spans it)."""

    name: str
    sample_rate: float  # Hz
    embedding_size: int  # D
    default_hop_size: float  # s
    attributes: dict[str, Any]

    def embed(
        self, audio: np.ndarray, sr: float, *, hop_size: float, center: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """(n,) audio -> embeddings (T, D) and timestamps (T,) in seconds."""
        ...


Embedder = WindowEmbedder | ClipEmbedder
"""What :func:`build_embedder` returns."""


def resolve_hop_size(embedder: Embedder, *, requested: float | None, shared: float) -> float:
    """The hop (s) an embedder runs at.

    A model with one possible hop (``fixed_hop_size``: VGGish's 0.96 s
    patches) uses it unless its entry asks otherwise (``requested``, the
    entry's ``hop_size``); any other model uses ``requested``, else the
    shared ``embed.hop_size``.
    """
    if requested is not None:
        return float(requested)
    return float(getattr(embedder, "fixed_hop_size", None) or shared)


class L3Embedder:
    """Window embedder around a Keras L3 audio embedding model.

    Parameters
    ----------
    model : keras.Model
        (batch, 48000) raw audio at 48 kHz -> (batch, D).
    name : str
        Name of the embedding (catalog and results key).
    attributes : dict
        Design-choice attributes (input_repr, subset, samples_seen, ...).
    """

    sample_rate = TARGET_SR
    window_s = 1.0
    default_hop_size = DEFAULT_HOP_SIZE_S

    def __init__(self, model: Any, *, name: str, attributes: dict[str, Any]) -> None:
        self.model = model
        self.name = name
        self.embedding_size = int(model.output_shape[-1])
        self.attributes = {"name": name, **attributes, "embedding_size": self.embedding_size}

    def embed_windows(self, windows: np.ndarray) -> np.ndarray:
        """Embed (B, 48000) float32 windows -> (B, D) float32."""
        return np.asarray(self.model.predict_on_batch(windows), dtype=np.float32)


class HandcraftedWindowEmbedder:
    """Adapter giving :class:`~l3_kedro.models.handcrafted.HandcraftedEmbedder` a name."""

    window_s = 1.0
    default_hop_size = DEFAULT_HOP_SIZE_S

    def __init__(self, *, name: str, **options: Any) -> None:
        from l3_kedro.models.handcrafted import HandcraftedEmbedder

        self._inner = HandcraftedEmbedder(**options)
        self.name = name
        self.sample_rate = self._inner.sample_rate
        self.embedding_size = self._inner.embedding_size
        self.attributes = {"name": name, "kind": "handcrafted", **options}
        self.attributes["embedding_size"] = self.embedding_size

    def embed_windows(self, windows: np.ndarray) -> np.ndarray:
        return self._inner.embed_windows(windows)


class SoundNetClipEmbedder:
    """Adapter giving :class:`~l3_kedro.models.soundnet_embedder.SoundNetEmbedder` a name."""

    default_hop_size = SOUNDNET_HOP_S  # non-overlapping frames, as the paper used SoundNet

    def __init__(self, *, name: str, weights: str | Path, **options: Any) -> None:
        from l3_kedro.models.soundnet_embedder import SoundNetEmbedder

        self._inner = SoundNetEmbedder(weights, **options)
        self.name = name
        self.sample_rate = self._inner.sample_rate
        self.embedding_size = self._inner.embedding_size
        self.attributes = {"name": name, "kind": "soundnet", **options}
        self.attributes["embedding_size"] = self.embedding_size

    def embed(
        self, audio: np.ndarray, sr: int, *, hop_size: float, center: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        return self._inner.embed(audio, sr, hop_size=hop_size, center=center)


def _fft_dtype(name: str, spec: dict[str, Any], default: str | None = "float64") -> str | None:
    """The entry's ``fft_dtype`` (front-end precision), checked; ``default`` if absent.

    A float64 front-end on the JAX backend turns on ``jax_enable_x64``
    (:func:`~l3_kedro.models.frontends.enable_fft_dtype`).
    """
    from l3_kedro.models.frontends import enable_fft_dtype

    fft_dtype = spec.get("fft_dtype", default)
    if fft_dtype is None:
        return None
    if fft_dtype not in FFT_DTYPES:
        raise ParameterError(
            f"Parameter 'embed.models.{name}.fft_dtype' must be one of {FFT_DTYPES}, "
            f"not {fft_dtype!r}."
        )
    return enable_fft_dtype(fft_dtype)


def _random_l3(name: str, spec: dict[str, Any]) -> L3Embedder:
    from l3_kedro.models.audio_tower import build_audio_tower
    from l3_kedro.models.seeding import keras_seeded

    input_repr = spec.get("input_repr", "mel256")
    if input_repr not in VALID_INPUT_REPRS:
        raise ParameterError(
            f"Parameter 'embed.models.{name}.input_repr' must be one of {VALID_INPUT_REPRS}."
        )
    fft_dtype = _fft_dtype(name, spec)
    with keras_seeded(int(spec.get("seed", 0))):
        model = build_audio_tower(
            input_repr=input_repr,
            embedding_size=_embedding_size(name, spec),
            width=float(spec.get("width", 1.0)),
            fft_dtype=fft_dtype,
            name=name,
        )
    attributes = {
        "kind": "l3_random",
        "input_repr": input_repr,
        "subset": "none",
        "samples_seen": 0,
        "width": float(spec.get("width", 1.0)),
    }
    return L3Embedder(model, name=name, attributes=attributes)


def _l3_checkpoint(name: str, spec: dict[str, Any]) -> L3Embedder:
    from l3_kedro.models.l3net import infer_input_repr, load_audio_embedding_model

    path = spec.get("path")
    if not path:
        raise ParameterError(f"Parameter 'embed.models.{name}.path' must name a .keras file.")
    from l3_kedro.models.frontends import enable_fft_dtype

    model = load_audio_embedding_model(
        path,
        embedding_size=_embedding_size(name, spec),
        fft_dtype=_fft_dtype(name, spec, default=None),  # None: the saved model's
        name=name,
    )
    enable_fft_dtype(model.get_layer("audio_frontend").fft_dtype)
    attributes = {
        "kind": "l3",
        "input_repr": infer_input_repr(model),
        "subset": spec.get("subset", "unknown"),
        "samples_seen": int(spec.get("samples_seen", -1)),
        "selection": spec.get("selection", "given"),
        "path": str(path),
    }
    if spec.get("run_key"):  # the avc_training run that made the model (MLflow lineage)
        attributes["run_key"] = str(spec["run_key"])
    return L3Embedder(model, name=name, attributes=attributes)


def _embedding_size(name: str, spec: dict[str, Any]) -> int:
    """``embed.models.<name>.embedding_size`` (default 6144), checked."""
    value = spec.get("embedding_size", 6144)
    if isinstance(value, bool) or value not in VALID_EMBEDDING_SIZES:
        raise ParameterError(
            f"Parameter 'embed.models.{name}.embedding_size' must be one of "
            f"{VALID_EMBEDDING_SIZES}, got {value!r}."
        )
    return int(value)


def _required_file(name: str, spec: dict[str, Any], key: str, hint: str) -> Path:
    value = spec.get(key)
    if not value:
        raise ParameterError(f"Parameter 'embed.models.{name}.{key}' is required ({hint}).")
    path = Path(value)
    if not path.exists():
        raise ModelError(f"'{path}' (parameter 'embed.models.{name}.{key}') not found: {hint}.")
    return path


def _openl3(name: str, spec: dict[str, Any]) -> L3Embedder:
    from l3_kedro.models.openl3_file import OBTAIN_HINT, parse_openl3_filename
    from l3_kedro.models.openl3_weights import build_openl3_embedding_model

    weights = _required_file(
        name, spec, "weights", f"the released OpenL3 audio weights file; {OBTAIN_HINT}"
    )
    file_repr, content_type = parse_openl3_filename(weights)
    input_repr = spec.get("input_repr", file_repr)
    if input_repr not in VALID_INPUT_REPRS:
        raise ParameterError(
            f"Parameter 'embed.models.{name}.input_repr' must be one of {VALID_INPUT_REPRS} "
            f"(the file name {weights.name!r} does not tell it)."
        )
    model = build_openl3_embedding_model(
        weights,
        input_repr=input_repr,
        embedding_size=_embedding_size(name, spec),
        fft_dtype=_fft_dtype(name, spec),
        name=name,
    )
    attributes = {
        "kind": "openl3",
        "input_repr": input_repr,
        "subset": spec.get("subset", content_type or "unknown"),
        "samples_seen": int(spec.get("samples_seen", -1)),
        "path": str(weights),
    }
    return L3Embedder(model, name=name, attributes=attributes)


def _vggish(name: str, spec: dict[str, Any]) -> Any:
    from l3_kedro.models.vggish import OBTAIN_HINT, VGGishEmbedder

    path = _required_file(name, spec, "path", f"the VGGish SavedModel directory; {OBTAIN_HINT}")
    return VGGishEmbedder(path, name=name)


def _hear(name: str, spec: dict[str, Any]) -> Any:
    from l3_kedro.models.hear_module import HearClipEmbedder

    unknown = sorted(set(spec) - {"module", "weights", "load_options"})
    if unknown:
        raise ParameterError(
            f"Parameter 'embed.models.{name}' has {unknown} that kind 'hear' does not take; "
            "use module, weights, load_options (and hop_size)."
        )
    weights = spec.get("weights")
    if weights:
        weights = str(
            _required_file(name, spec, "weights", "the HEAR model's file (model_file_path)")
        )
    options = spec.get("load_options") or {}
    if not isinstance(options, dict):
        raise ParameterError(
            f"Parameter 'embed.models.{name}.load_options' must be a mapping of "
            f"load_model keywords, got {options!r}."
        )
    return HearClipEmbedder(
        name=name, module=spec.get("module"), weights=weights, load_options=options
    )


def _soundnet(name: str, spec: dict[str, Any]) -> SoundNetClipEmbedder:
    options = dict(spec)
    weights = _required_file(
        name, options, "weights", "run `python scripts/fetch_soundnet_weights.py`"
    )
    options.pop("weights")
    return SoundNetClipEmbedder(name=name, weights=weights, **options)


def _handcrafted(name: str, spec: dict[str, Any]) -> HandcraftedWindowEmbedder:
    return HandcraftedWindowEmbedder(name=name, **spec)


BUILDERS: dict[str, Callable[[str, dict[str, Any]], Any]] = {
    "l3_random": _random_l3,
    "l3": _l3_checkpoint,
    "soundnet": _soundnet,
    "handcrafted": _handcrafted,
    "openl3": _openl3,
    "vggish": _vggish,
    "hear": _hear,
}
"""``embed.models.<name>.kind`` -> the function that builds that kind's embedder."""


def build_embedder(name: str, spec: dict[str, Any]) -> Embedder:
    """Make the embedder described by one ``embed.models`` entry.

    Parameters
    ----------
    name : str
        The entry's key: the embedding's name.
    spec : dict
        ``kind`` and that kind's options:

        - ``l3_random``: ``input_repr``, ``embedding_size``, ``width``, ``seed``,
          ``fft_dtype``
        - ``l3``: ``path`` (a trained ``.keras`` model), ``embedding_size``,
          ``subset``, ``samples_seen``, ``fft_dtype``
        - ``soundnet``: ``weights`` (the ``.npy`` file), ``layer``, ``pooling``
        - ``handcrafted``: ``sample_rate``, ``n_mels``, ``n_mfcc``
        - ``openl3``: ``weights`` (a released ``openl3_audio_<repr>_<content>.h5``),
          ``input_repr``, ``embedding_size``, ``fft_dtype``
        - ``vggish``: ``path`` (the unpacked TF-Hub VGGish SavedModel directory)
        - ``hear``: ``module`` (an installed HEAR 2021 module), ``weights``
          (its ``model_file_path``, optional), ``load_options`` (further
          ``load_model`` keywords); see :mod:`l3_kedro.models.hear_module`

        Any kind: ``hop_size``, ``center``. The L3 kinds: ``mode``
        (``"exact"``, default, or ``"fast"``: :mod:`l3_kedro.embedding.fast`),
        ``span_s`` and ``precision`` (``"float32"``, default, or
        ``"bfloat16"``: :mod:`l3_kedro.models.precision`). ``fft_dtype`` (``"float64"`` or ``"float32"``) is the precision of the
        in-graph spectrogram front-end: float64 by default (the saved model's
        for ``l3``); float32 is for hardware with slow float64. Keras on JAX
        computes float64 only with ``jax_enable_x64``, which a float64
        front-end turns on (process-wide, logged; see
        :func:`~l3_kedro.models.frontends.enable_fft_dtype`).
    """
    from l3_kedro.embedding.fast import L3FastEmbedder, embed_mode

    kind = spec.get("kind")
    builder = BUILDERS.get(kind) if isinstance(kind, str) else None
    if builder is None:
        raise ParameterError(
            f"Parameter 'embed.models.{name}.kind' is {kind!r}; "
            f"choose one of {', '.join(repr(k) for k in BUILDERS)}."
        )
    spec = embed_mode(name, spec, {})
    embedder = builder(name, {k: v for k, v in spec.items() if k not in _NOT_OPTIONS})
    if "precision" in spec:  # bfloat16 (float32, the default, is not written)
        from l3_kedro.models.precision import with_compute_precision

        embedder.model = with_compute_precision(embedder.model, spec["precision"])
        embedder.attributes["precision"] = spec["precision"]
    return L3FastEmbedder(embedder, span_s=spec["span_s"]) if "span_s" in spec else embedder


_NOT_OPTIONS = ("kind", "hop_size", "center", "enabled", "mode", "span_s", "precision")
