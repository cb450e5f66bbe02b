"""L3-Net models: spectrogram front-ends, audio and vision towers, AVC model.

Constants are imported eagerly (the front-end's from
:mod:`l3_kedro.audio.constants`, the towers' from :mod:`l3_kedro.models.constants`);
the Keras builders load on first use, so importing the constants does not
import TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from l3_kedro.audio.constants import (
    FRONTEND_SETTINGS,
    INPUT_SHAPES,
    TARGET_SR,
    VALID_INPUT_REPRS,
    WINDOW_SAMPLES,
    FrontendSettings,
)
from l3_kedro.models.constants import (
    AUDIO_POOLING_SIZES,
    IMAGE_POOLING_SIZES,
    IMAGE_SHAPE,
    VALID_EMBEDDING_SIZES,
    VALID_IMAGE_EMBEDDING_SIZES,
)

if TYPE_CHECKING:
    from l3_kedro.models.audio_tower import (
        audio_embedding_dim,
        build_audio_tower,
        build_audio_training_tower,
    )
    from l3_kedro.models.blocks import conv_block
    from l3_kedro.models.frontends import LinearSpectrogram, MelSpectrogram, build_frontend
    from l3_kedro.models.l3net import (
        audio_embedding_model_from_l3net,
        build_l3net,
        copy_weights_by_name,
        load_audio_embedding_model,
    )
    from l3_kedro.models.vision_tower import build_vision_tower, image_embedding_dim

_LAZY = {
    "LinearSpectrogram": "frontends",
    "MelSpectrogram": "frontends",
    "build_frontend": "frontends",
    "conv_block": "blocks",
    "audio_embedding_dim": "audio_tower",
    "build_audio_tower": "audio_tower",
    "build_audio_training_tower": "audio_tower",
    "build_vision_tower": "vision_tower",
    "image_embedding_dim": "vision_tower",
    "audio_embedding_model_from_l3net": "l3net",
    "build_l3net": "l3net",
    "copy_weights_by_name": "l3net",
    "load_audio_embedding_model": "l3net",
    "SoundNetEmbedder": "soundnet_embedder",
    "build_soundnet": "soundnet",
    "load_soundnet_weights": "soundnet",
    "HandcraftedEmbedder": "handcrafted",
}

__all__ = [
    "AUDIO_POOLING_SIZES",
    "FRONTEND_SETTINGS",
    "IMAGE_POOLING_SIZES",
    "IMAGE_SHAPE",
    "INPUT_SHAPES",
    "TARGET_SR",
    "VALID_EMBEDDING_SIZES",
    "VALID_IMAGE_EMBEDDING_SIZES",
    "VALID_INPUT_REPRS",
    "WINDOW_SAMPLES",
    "FrontendSettings",
    "HandcraftedEmbedder",
    "LinearSpectrogram",
    "MelSpectrogram",
    "SoundNetEmbedder",
    "audio_embedding_dim",
    "audio_embedding_model_from_l3net",
    "build_audio_tower",
    "build_audio_training_tower",
    "build_frontend",
    "build_l3net",
    "build_soundnet",
    "build_vision_tower",
    "conv_block",
    "copy_weights_by_name",
    "image_embedding_dim",
    "load_audio_embedding_model",
    "load_soundnet_weights",
]


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(f"{__name__}.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
