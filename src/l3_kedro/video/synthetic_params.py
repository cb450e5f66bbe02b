"""The checked parameters of the synthetic AVC corpus (``ingest.avc.synthetic``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from l3_kedro.errors import ParameterError
from l3_kedro.video.synthetic_classes import SyntheticClass
from l3_kedro.video.synthetic_drawn import MAX_DRAWN, corpus_classes

YTID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
AAC_SAMPLE_RATES = (
    8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000,
)  # fmt: skip
PARAMETER_PREFIX = "ingest.avc.synthetic"
"""Where the generation parameters live in the Kedro parameters (named in errors)."""
INSTRUMENTS = ("procedural", "soundfont")
"""Values of ``ingest.avc.synthetic.instruments``."""


@dataclass(frozen=True)
class CorpusParameters:
    """Validated generation parameters (see :func:`generate_synthetic_corpus`)."""

    n_videos_per_subset: int = 48
    duration_s: float = 8.0
    frame_rate: float = 8.0
    image_size: int = 96
    sample_rate: int = 48000
    seed: int = 0
    two_sources_p: float = 0.0
    silent_stretch_p: float = 0.0
    instruments: str = "procedural"
    drawn_classes: int = 0

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> CorpusParameters:
        """Check ``ingest.avc.synthetic`` (``overwrite`` aside); unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known - {"overwrite"})
        if unknown:
            raise ParameterError(
                f"Unknown key(s) {unknown} under {PARAMETER_PREFIX}; known: {sorted(known)} "
                "and overwrite."
            )
        return cls(**{k: v for k, v in options.items() if k != "overwrite"})

    def __post_init__(self) -> None:
        def bad(name: str, value: Any, domain: str) -> ParameterError:
            return ParameterError(
                f"Parameter '{PARAMETER_PREFIX}.{name}' must be {domain}, not {value!r}."
            )

        def is_int(value: Any) -> bool:
            return isinstance(value, int | np.integer) and not isinstance(value, bool)

        def is_real(value: Any) -> bool:
            return is_int(value) or (
                isinstance(value, float | np.floating) and math.isfinite(value)
            )

        if not is_int(self.n_videos_per_subset) or self.n_videos_per_subset < 1:
            raise bad("n_videos_per_subset", self.n_videos_per_subset, "an integer >= 1")
        if not is_real(self.duration_s) or not 1.0 <= self.duration_s <= 60.0:
            raise bad("duration_s", self.duration_s, "a number of seconds in [1, 60]")
        if not is_real(self.frame_rate) or not 1.0 <= self.frame_rate <= 30.0:
            raise bad("frame_rate", self.frame_rate, "a number of frames per second in [1, 30]")
        if not is_int(self.image_size) or not 32 <= self.image_size <= 256 or self.image_size % 2:
            raise bad("image_size", self.image_size, "an even number of pixels in [32, 256]")
        if not is_int(self.sample_rate) or self.sample_rate not in AAC_SAMPLE_RATES:
            raise bad("sample_rate", self.sample_rate, f"one of the AAC rates {AAC_SAMPLE_RATES}")
        if not is_int(self.seed) or self.seed < 0:
            raise bad("seed", self.seed, "an integer >= 0")
        for name in ("two_sources_p", "silent_stretch_p"):
            value = getattr(self, name)
            if not is_real(value) or not 0.0 <= value <= 1.0:
                raise bad(name, value, "a probability in [0, 1]")
        if self.instruments not in INSTRUMENTS:
            raise bad("instruments", self.instruments, f"one of {list(INSTRUMENTS)}")
        if not is_int(self.drawn_classes) or not 0 <= self.drawn_classes <= MAX_DRAWN:
            raise bad("drawn_classes", self.drawn_classes, f"an integer in [0, {MAX_DRAWN}]")

    def classes(self, subset: str) -> dict[str, SyntheticClass]:
        """The classes of ``subset``: the hand-made ones, then ``drawn_classes`` drawn ones."""
        return corpus_classes(subset, int(self.drawn_classes), int(self.seed))

    @property
    def n_samples(self) -> int:
        return round(self.duration_s * self.sample_rate)

    @property
    def n_frames(self) -> int:
        return max(1, round(self.duration_s * self.frame_rate))

    def as_dict(self) -> dict[str, Any]:
        return {
            "n_videos_per_subset": int(self.n_videos_per_subset),
            "duration_s": float(self.duration_s),
            "frame_rate": float(self.frame_rate),
            "image_size": int(self.image_size),
            "sample_rate": int(self.sample_rate),
            "seed": int(self.seed),
            "two_sources_p": float(self.two_sources_p),
            "silent_stretch_p": float(self.silent_stretch_p),
            "instruments": self.instruments,
            "drawn_classes": int(self.drawn_classes),
        }
