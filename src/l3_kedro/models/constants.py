"""Constants of the L3-Net towers and the audio-visual correspondence head.

Every number comes from the paper (Cramer et al., ICASSP 2019) or from the
facts its authors published with OpenL3 0.4.x (see ``docs/reference.md``
§1-3). The front-end's constants (sample rate, STFT settings, input shapes)
live in :mod:`l3_kedro.audio.constants`.
"""

from __future__ import annotations

VALID_EMBEDDING_SIZES: tuple[int, ...] = (512, 6144)
"""Nominal audio embedding sizes (exact at width 1.0)."""


SOUNDNET_HOP_S: float = 1.0
"""Default seconds between SoundNet embeddings: non-overlapping 1 s frames, as the paper used it."""


VALID_IMAGE_EMBEDDING_SIZES: tuple[int, ...] = (512, 8192)
"""Nominal image embedding sizes (exact at width 1.0)."""


IMAGE_SHAPE: tuple[int, int, int] = (224, 224, 3)
"""Shape of one vision-tower input (height, width, RGB channels)."""


BLOCK_FILTERS: tuple[int, ...] = (64, 128, 256, 512)
"""Convolution filters of the four VGG-style blocks of both towers (width 1)."""


WEIGHT_DECAY: float = 1e-5
"""L2 factor on every convolution and dense kernel."""


FUSION_UNITS: int = 128
"""Units of the hidden dense layer of the audio-visual correspondence head."""


AUDIO_POOLING_SIZES: dict[str, dict[int, tuple[int, int]]] = {
    "linear": {6144: (8, 8), 512: (32, 24)},
    "mel128": {6144: (4, 8), 512: (16, 24)},
    "mel256": {6144: (8, 8), 512: (32, 24)},
}
"""Max-pool size (freq, time) on the last audio conv per repr and size."""


IMAGE_POOLING_SIZES: dict[int, tuple[int, int]] = {8192: (7, 7), 512: (28, 28)}
"""Max-pool size (rows, cols) on the last vision conv per embedding size."""
