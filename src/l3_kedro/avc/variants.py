"""AVC training variants (``avc_training.variants`` in YAML) and the shared video cache."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from l3_kedro.audio.constants import check_input_repr
from l3_kedro.avc.config import AvcTrainingConfig
from l3_kedro.avc.corpus import VideoCache
from l3_kedro.errors import ParameterError

RESULT_NEUTRAL_KEYS = ("workers", "cache_videos", "distribution")
"""Settings that change speed, not results: left out of the resume fingerprint."""

CHECKPOINT_FORMAT = 3
"""In the resume fingerprint: raised when checkpoints of earlier code cannot be
resumed or their training would now go differently (2: the image input became
uint8, colour augmentation in the model; 3: a positive pair's frame is one
shown inside its audio crop)."""


@dataclass(frozen=True)
class VariantSpec:
    """One design-choice variant: input representation x training subset."""

    name: str
    input_repr: str
    subset: str

    @classmethod
    def from_parameters(cls, name: str, spec: Mapping[str, Any]) -> VariantSpec:
        where = f"avc_training.variants.{name}"
        if not isinstance(spec, Mapping) or "input_repr" not in spec or "subset" not in spec:
            raise ParameterError(f"{where} must be a mapping with input_repr and subset.")
        unknown = sorted(set(spec) - {"input_repr", "subset", "enabled"})
        if unknown:
            raise ParameterError(f"Unknown key(s) {unknown} under {where}.")
        try:
            input_repr = check_input_repr(spec["input_repr"])
        except ParameterError as exc:
            raise ParameterError(f"{where}.input_repr: {exc}") from exc
        return cls(name=name, input_repr=input_repr, subset=str(spec["subset"]))


def fingerprint(config: AvcTrainingConfig, variant: VariantSpec, manifest: pd.DataFrame) -> str:
    """Digest of everything that determines a training run's result (hex, 16 chars)."""
    settings = {k: v for k, v in config.to_dict().items() if k not in RESULT_NEUTRAL_KEYS}
    if not settings["sync_batch_norm"]:  # added later: off keeps earlier fingerprints
        del settings["sync_batch_norm"]
    videos = manifest.loc[
        manifest["subset"] == variant.subset, ["video_id", "split", "duration_s", "video_path"]
    ]
    payload = json.dumps(
        {
            "format": CHECKPOINT_FORMAT,
            "settings": settings,
            "variant": [variant.input_repr, variant.subset],
            "videos": videos.astype(str).to_numpy().tolist(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


_CACHES: dict[tuple, VideoCache] = {}


def shared_video_cache(manifest: pd.DataFrame, config: AvcTrainingConfig) -> VideoCache:
    """One decoded-video cache per (manifest, frame settings) for the whole process.

    Variants trained and evaluated in one ``kedro run`` decode each video once.
    """
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(manifest.astype(str), index=False).to_numpy().tobytes()
    ).hexdigest()
    key = (digest, config.frame_short_side, config.frame_rate)
    if key not in _CACHES:
        _CACHES.clear()  # keep one corpus decoded at a time
        _CACHES[key] = VideoCache(
            manifest,
            short_side=config.frame_short_side,
            frame_rate=config.frame_rate,
            capacity=config.cache_videos,
        )
    return _CACHES[key]
