"""l3_kedro: learn and evaluate L3-Net deep audio embeddings as a Kedro project.

The OpenL3-style API loads on first use (importing it pulls in TensorFlow):

>>> import l3_kedro
>>> model = l3_kedro.load_audio_embedding_model(input_repr="mel256", embedding_size=512)
>>> embeddings, timestamps = l3_kedro.get_audio_embedding(audio, sr, model=model)
"""

from __future__ import annotations

import importlib

from l3_kedro.offline import go_offline

go_offline()

__version__ = "0.1.0"

_API = (
    "get_audio_embedding",
    "get_output_path",
    "load_audio_embedding_model",
    "preprocess_audio",
    "process_audio_file",
)

__all__ = [
    "__version__",
    "get_audio_embedding",
    "get_output_path",
    "load_audio_embedding_model",
    "preprocess_audio",
    "process_audio_file",
]


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module("l3_kedro.api"), name)
    raise AttributeError(f"module 'l3_kedro' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
