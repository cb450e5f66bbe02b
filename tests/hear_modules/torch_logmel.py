"""A second HEAR 2021 module, in PyTorch: log-mel frames projected at random.

Written for the tests because no third-party HEAR module installs and runs
offline here (``hearbaseline`` 2021.1.1 calls ``librosa.filters.mel``
positionally, which librosa 0.10 and later reject). It differs from
``l3_kedro.hear`` in every way the embedder must handle: PyTorch tensors,
16 kHz, 25 ms timestamps, 100 ms windows, 32 dimensions.
"""

from __future__ import annotations

import librosa
import torch

SAMPLE_RATE = 16_000
HOP_MS = 25
WINDOW = 1_600  # samples: 100 ms


class LogMelProjection(torch.nn.Module):
    """(frames, 1600) audio -> (frames, 32): log power in 40 mel bands, projected."""

    sample_rate = SAMPLE_RATE
    scene_embedding_size = 32
    timestamp_embedding_size = 32

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        mel = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=WINDOW, n_mels=40)
        self.register_buffer("mel", torch.tensor(mel, dtype=torch.float32))
        self.register_buffer("window", torch.hann_window(WINDOW))
        generator = torch.Generator().manual_seed(seed)
        self.projection = torch.nn.Parameter(torch.randn(40, 32, generator=generator))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        power = torch.fft.rfft(frames * self.window).abs() ** 2
        return torch.log(power @ self.mel.T + 1e-6) @ self.projection


def load_model(model_file_path: str = "") -> LogMelProjection:
    model = LogMelProjection()
    if model_file_path:
        model.load_state_dict(torch.load(model_file_path))
    return model


def get_timestamp_embeddings(
    audio: torch.Tensor, model: LogMelProjection
) -> tuple[torch.Tensor, torch.Tensor]:
    hop = SAMPLE_RATE * HOP_MS // 1000
    n_sounds, n_samples = audio.shape
    padded = torch.nn.functional.pad(audio, (WINDOW // 2, WINDOW // 2))
    frames = padded.unfold(1, WINDOW, hop)[:, : 1 + n_samples // hop]  # centres 0 .. end
    with torch.no_grad():
        embeddings = model(frames.reshape(-1, WINDOW)).reshape(n_sounds, frames.shape[1], -1)
    timestamps = torch.arange(frames.shape[1], dtype=torch.float32) * HOP_MS
    return embeddings, timestamps.expand(n_sounds, -1)


def get_scene_embeddings(audio: torch.Tensor, model: LogMelProjection) -> torch.Tensor:
    return get_timestamp_embeddings(audio, model)[0].mean(dim=1)


__all__ = ["get_scene_embeddings", "get_timestamp_embeddings", "load_model"]
