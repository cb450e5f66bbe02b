"""AVC training settings (``avc_training.training`` in YAML), validated once."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from numbers import Integral, Real
from typing import Any

from l3_kedro.errors import ParameterError

DISTRIBUTION_STRATEGIES = ("one_device", "mirrored", "multi_worker")
"""Values of ``distribution``: one device, mirrored over local GPUs, multi-worker."""

_PREFIX = "avc_training.training"


def _int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ParameterError(f"{_PREFIX}.{name}={value!r}; expected an integer >= {minimum}.")
    return int(value)


def _positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        hint = " (YAML reads 1e-5 as text: write 1.0e-5)" if isinstance(value, str) else ""
        bound = ">= 0" if allow_zero else "> 0"
        raise ParameterError(f"{_PREFIX}.{name}={value!r}; expected a number {bound}{hint}.")
    return float(value)


@dataclass(frozen=True)
class AvcTrainingConfig:
    """How one L3-Net variant is trained (paper values in brackets).

    Attributes
    ----------
    width : float
        Width multiplier of both towers [1.0].
    image_size : int
        Side of the square image crop, in pixels [224].
    frame_short_side : int
        Frames are decoded with this short side before cropping, in pixels [256].
    frame_rate : float or None
        Frames kept per second of video (None: every frame). Any rate gives
        frames inside every 1 s window; lower rates save memory.
    batch_size : int
        Pairs per gradient step [64].
    epochs, batches_per_epoch : int
        Training length; samples seen = epochs x batches_per_epoch x batch_size
        [300 x 4096 x 64 = 78.6M].
    validation_batches, test_batches : int
        Fixed pairs drawn from the validation / test split for each evaluation.
    learning_rate, weight_decay, beta_1, beta_2 : float
        Adam and L2 settings [1e-5, 1e-5, 0.9, 0.999].
    bn_momentum : float
        Momentum of the BatchNorm moving statistics [0.99, Keras' default]; a
        run of a few hundred steps needs less (0.9) for its validation and
        test passes, which use the moving statistics, to follow the weights.
    ema_momentum : float or None
        With a value in (0, 1), Adam also keeps an exponential moving average
        of the weights (Keras ``use_ema``), which replaces the weights at the
        end of every epoch, before validation and checkpoints. It smooths a
        short, small-batch run whose validation accuracy otherwise jumps from
        epoch to epoch. None: plain Adam [the paper].
    checkpoint_every_samples : int
        A checkpoint is kept every this many samples seen (a multiple of one
        epoch's samples) for the amount-of-data curve [2.6M].
    videos_per_batch : int
        Distinct videos mixed into each batch (the authors' 64 streamers).
    cache_videos : int
        Decoded videos kept in memory.
    workers : int
        Threads preparing batches while the model trains.
    distribution : {"one_device", "mirrored", "multi_worker"}
        ``tf.distribute`` strategy (``keras.distribution.DataParallel`` on JAX).
        ``multi_worker`` takes its cluster from ``TF_CONFIG``, or from SLURM's
        variables inside a SLURM job (see :mod:`l3_kedro.avc.distribution`).
    sync_batch_norm : bool
        With several replicas, batch statistics over the global batch (an
        all-reduce per BatchNormalization layer and step) instead of each
        replica's share: training then matches one device with the same
        global batch. Off by default (each replica normalises its own share).
    mixed_precision : bool
        Train in mixed float16 (the audio front-end stays in float32/64).
    fft_dtype : {"float64", "float32"}
        Precision of the in-graph audio front-end.
    seed : int
        Seeds the weights, the video split order and every sampled pair.
    """

    width: float = 1.0
    image_size: int = 224
    frame_short_side: int = 256
    frame_rate: float | None = None
    batch_size: int = 64
    epochs: int = 300
    batches_per_epoch: int = 4096
    validation_batches: int = 64
    test_batches: int = 64
    learning_rate: float = 1e-5
    weight_decay: float = 1e-5
    beta_1: float = 0.9
    beta_2: float = 0.999
    bn_momentum: float = 0.99
    ema_momentum: float | None = None
    checkpoint_every_samples: int = 2_621_440
    videos_per_batch: int = 64
    cache_videos: int = 1024
    workers: int = 4
    distribution: str = "one_device"
    sync_batch_norm: bool = False
    mixed_precision: bool = False
    fft_dtype: str = "float64"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("width", "learning_rate", "beta_1", "beta_2", "bn_momentum"):
            _positive(name, getattr(self, name))
        _positive("weight_decay", self.weight_decay, allow_zero=True)
        if self.ema_momentum is not None and not (
            _positive("ema_momentum", self.ema_momentum) < 1.0
        ):
            raise ParameterError(
                f"{_PREFIX}.ema_momentum={self.ema_momentum!r}; use a number in (0, 1), "
                "e.g. 0.95, or null for no weight averaging."
            )
        if self.frame_rate is not None and _positive("frame_rate", self.frame_rate) < 1.0:
            raise ParameterError(
                f"{_PREFIX}.frame_rate={self.frame_rate}; keep at least 1 frame per second "
                "so that every 1 s window holds a frame."
            )
        for name, minimum in (
            ("image_size", 16),
            ("frame_short_side", 16),
            ("batch_size", 2),
            ("epochs", 1),
            ("batches_per_epoch", 1),
            ("validation_batches", 1),
            ("test_batches", 1),
            ("checkpoint_every_samples", 1),
            ("videos_per_batch", 2),
            ("cache_videos", 2),
            ("workers", 0),
            ("seed", 0),
        ):
            _int(name, getattr(self, name), minimum)
        if self.frame_short_side < self.image_size:
            raise ParameterError(
                f"{_PREFIX}.frame_short_side={self.frame_short_side} is smaller than "
                f"image_size={self.image_size}; frames must be at least as large as the crop."
            )
        if self.checkpoint_every_samples % self.samples_per_epoch:
            raise ParameterError(
                f"{_PREFIX}.checkpoint_every_samples={self.checkpoint_every_samples} is not a "
                f"multiple of one epoch's samples (batches_per_epoch x batch_size = "
                f"{self.samples_per_epoch}); checkpoints are taken between epochs."
            )
        if self.distribution not in DISTRIBUTION_STRATEGIES:
            raise ParameterError(
                f"{_PREFIX}.distribution={self.distribution!r}; "
                f"use one of {DISTRIBUTION_STRATEGIES}."
            )
        if self.fft_dtype not in ("float64", "float32"):
            raise ParameterError(f"{_PREFIX}.fft_dtype={self.fft_dtype!r}; use float64 or float32.")
        for name in ("mixed_precision", "sync_batch_norm"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError(f"{_PREFIX}.{name}={getattr(self, name)!r}; use true/false.")

    @property
    def samples_per_epoch(self) -> int:
        """Pairs seen per epoch."""
        return self.batches_per_epoch * self.batch_size

    @property
    def total_samples(self) -> int:
        """Pairs seen by the end of training."""
        return self.epochs * self.samples_per_epoch

    @property
    def checkpoint_epochs(self) -> tuple[int, ...]:
        """Epochs (1-based) after which a checkpoint is kept; always ends with the last."""
        every = self.checkpoint_every_samples // self.samples_per_epoch
        epochs = set(range(every, self.epochs + 1, every)) | {self.epochs}
        return tuple(sorted(epochs))

    @property
    def checkpoint_samples(self) -> tuple[int, ...]:
        """Samples seen at each checkpoint."""
        return tuple(e * self.samples_per_epoch for e in self.checkpoint_epochs)

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> AvcTrainingConfig:
        """Build from the ``avc_training.training`` mapping; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(parameters) - known)
        if unknown:
            raise ParameterError(
                f"Unknown key(s) {unknown} under {_PREFIX}; known keys: {sorted(known)}."
            )
        return cls(**dict(parameters))

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (for MLflow params and the resume fingerprint)."""
        return asdict(self)
