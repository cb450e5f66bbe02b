"""Streaming clip tables through embedders: batching, skipping, warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from l3_kedro.audio import frame_audio, load_audio
from l3_kedro.errors import AudioError
from l3_kedro.inference import ClipEmbeddingStream
from l3_kedro.models.embedders import build_embedder
from tests.conftest import EMBEDDED_RAW

US8K_AUDIO = EMBEDDED_RAW / "urbansound8k" / "audio"


@pytest.fixture(scope="module")
def clips() -> pd.DataFrame:
    """Five real clips of different lengths (two cut short), as a clip table."""
    paths = sorted((US8K_AUDIO / "fold1").glob("*.flac"))[:3]
    rows = [{"clip_id": p.stem, "path": str(p), "label": "x"} for p in paths]
    fsdd = sorted((EMBEDDED_RAW / "fsdd" / "recordings").glob("*.wav"))[:2]
    rows += [{"clip_id": p.stem, "path": str(p), "label": "y"} for p in fsdd]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def handcrafted():
    return build_embedder("handcrafted", {"kind": "handcrafted", "sample_rate": 22050})


def _embed_all(stream: ClipEmbeddingStream):
    chunks = list(stream)
    return (
        pd.concat([c.clips for c in chunks], ignore_index=True),
        np.concatenate([c.embeddings for c in chunks]),
        np.concatenate([c.windows_per_clip for c in chunks]),
    )


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_batching_across_clips_equals_embedding_each_clip(clips, handcrafted, batch_size):
    stream = ClipEmbeddingStream(
        clips, handcrafted, hop_size=0.5, batch_size=batch_size, progress=False
    )
    table, embeddings, counts = _embed_all(stream)
    assert table["clip_id"].tolist() == clips["clip_id"].tolist()
    offset = 0
    for path, n in zip(clips["path"], counts, strict=True):
        audio, sr = load_audio(path, sr=22050)
        windows, _ = frame_audio(audio, sr, hop_size=0.5)
        np.testing.assert_allclose(
            embeddings[offset : offset + n],
            handcrafted.embed_windows(windows),
            rtol=1e-5,
            atol=1e-4,
        )
        offset += n
    assert offset == len(embeddings)


def test_random_l3_stream_matches_the_model_on_framed_windows(clips):
    embedder = build_embedder(
        "l3", {"kind": "l3_random", "input_repr": "mel128", "width": 0.125, "embedding_size": 512}
    )
    stream = ClipEmbeddingStream(
        clips.head(2), embedder, hop_size=1.0, batch_size=3, progress=False
    )
    _, embeddings, counts = _embed_all(stream)
    audio, sr = load_audio(clips["path"][0], sr=48000)
    windows, _ = frame_audio(audio, sr, hop_size=1.0)
    expected = embedder.model.predict_on_batch(windows)
    np.testing.assert_allclose(embeddings[: counts[0]], expected, rtol=1e-4, atol=1e-4)
    assert embedder.attributes["input_repr"] == "mel128"
    assert embeddings.shape[1] == embedder.embedding_size


def test_an_unreadable_clip_is_skipped_without_losing_the_others(clips, handcrafted, tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEfmt garbage")
    with_bad = pd.concat(
        [clips.head(2), pd.DataFrame([{"clip_id": "broken", "path": str(bad), "label": "x"}]),
         clips.tail(2)],
        ignore_index=True,
    )  # fmt: skip
    stream = ClipEmbeddingStream(with_bad, handcrafted, hop_size=0.5, progress=False)
    table, embeddings, counts = _embed_all(stream)
    assert "broken" not in set(table["clip_id"])
    assert len(table) == 4
    assert counts.sum() == len(embeddings)
    assert [s["clip_id"] for s in stream.skips] == ["broken"]
    assert "broken.wav" in stream.skips[0]["reason"]
    strict = ClipEmbeddingStream(
        with_bad, handcrafted, hop_size=0.5, on_error="error", progress=False
    )
    with pytest.raises(AudioError, match=r"broken\.wav"):
        list(strict)


def test_nan_audio_is_an_error_naming_the_clip(clips, handcrafted, tmp_path):
    nan = tmp_path / "nan.wav"
    sf.write(nan, np.array([0.0, np.nan] * 8000, dtype="float32"), 16000, subtype="FLOAT")
    table = pd.DataFrame([{"clip_id": "nan", "path": str(nan), "label": "x"}])
    with pytest.raises(AudioError, match=r"nan\.wav"):
        list(
            ClipEmbeddingStream(table, handcrafted, hop_size=0.5, on_error="error", progress=False)
        )


def test_short_clip_warnings_are_counted_once_per_stream(clips, handcrafted, caplog):
    stream = ClipEmbeddingStream(clips, handcrafted, hop_size=0.5, progress=False)
    with caplog.at_level("WARNING", logger="l3_kedro.inference"):
        list(stream)
    assert stream.warnings["shorter than one window: zero-padded"] == 2
    assert sum("shorter than one window" in r.message for r in caplog.records) == 1
