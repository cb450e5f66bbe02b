"""Streaming clip tables through embedders: batching, skipping, warnings."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from l3_kedro.audio import frame_audio, load_audio
from l3_kedro.embedding.embedders import build_embedder
from l3_kedro.embedding.stream import ClipEmbeddingStream
from l3_kedro.errors import AudioError, AudioWarning
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
    with caplog.at_level("WARNING", logger="l3_kedro.embedding.stream"):
        list(stream)
    assert stream.warnings["shorter than one window: zero-padded"] == 2
    assert sum("shorter than one window" in r.message for r in caplog.records) == 1


# -- the producer thread: batching, padding, errors, closing --------------------------


class CountingEmbedder:
    """Exact window embedder (samples every 1000th) recording its batch sizes."""

    name = "counting"
    sample_rate = 8000
    embedding_size = 8

    def __init__(self, fail_at: int | None = None, exc: BaseException | None = None) -> None:
        self.attributes = {"name": self.name}
        self.batch_sizes: list[int] = []
        self.fail_at, self.exc = fail_at, exc

    def embed_windows(self, windows: np.ndarray) -> np.ndarray:
        assert windows.dtype == np.float32 and windows.flags.c_contiguous
        if len(self.batch_sizes) == self.fail_at:
            raise self.exc
        self.batch_sizes.append(len(windows))
        return windows[:, ::1000].copy()


def _sequential(clips: pd.DataFrame, embedder, hop_size: float):
    """The reference: decode, frame and embed one clip at a time, in order."""
    embs, stamps, kept = [], [], []
    for row in clips.to_dict("records"):
        try:
            audio, sr = load_audio(row["path"], sr=embedder.sample_rate)
        except AudioError:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AudioWarning)
            windows, ts = frame_audio(audio, sr, hop_size=hop_size)
        embs.append(embedder.embed_windows(windows))
        stamps.append(ts)
        kept.append(row["clip_id"])
    return kept, np.concatenate(embs), np.concatenate(stamps), [len(t) for t in stamps]


@pytest.fixture(scope="module")
def many_clips(clips) -> pd.DataFrame:
    """30 clips (the five, six times over, with unique ids)."""
    table = pd.concat([clips] * 6, ignore_index=True)
    table["clip_id"] = [f"{c}#{i}" for i, c in enumerate(table["clip_id"])]
    return table


@pytest.mark.parametrize("batch_size", [1, 7, 36, 1000])
def test_the_stream_equals_the_sequential_path_exactly(
    many_clips, batch_size, tmp_path, monkeypatch
):
    monkeypatch.setattr("l3_kedro.embedding.stream.CHUNK_CLIPS", 4)
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEfmt garbage")
    table = pd.concat(
        [many_clips.head(9), pd.DataFrame([{"clip_id": "broken", "path": str(bad)}]),
         many_clips.iloc[9:]],
        ignore_index=True,
    )  # fmt: skip
    stream = ClipEmbeddingStream(
        table, CountingEmbedder(), hop_size=0.25, batch_size=batch_size, progress=False
    )
    chunks = list(stream)
    kept, embeddings, timestamps, counts = _sequential(table, CountingEmbedder(), 0.25)
    assert all(len(c.clips) <= 4 for c in chunks)
    assert pd.concat([c.clips for c in chunks])["clip_id"].tolist() == kept
    np.testing.assert_array_equal(np.concatenate([c.embeddings for c in chunks]), embeddings)
    np.testing.assert_array_equal(np.concatenate([c.timestamps for c in chunks]), timestamps)
    assert np.concatenate([c.windows_per_clip for c in chunks]).tolist() == counts
    assert [s["clip_id"] for s in stream.skips] == ["broken"]


@pytest.mark.parametrize("batch_size", [1, 5, 64, 1000])
def test_the_model_sees_only_full_batches(many_clips, batch_size):
    embedder = CountingEmbedder()
    stream = ClipEmbeddingStream(
        many_clips, embedder, hop_size=0.5, batch_size=batch_size, progress=False
    )
    n_windows = sum(len(c.embeddings) for c in stream)
    assert set(embedder.batch_sizes) == {batch_size}
    assert len(embedder.batch_sizes) == -(-n_windows // batch_size)


def test_a_producer_error_is_raised_after_the_chunks_before_it(many_clips, tmp_path, monkeypatch):
    monkeypatch.setattr("l3_kedro.embedding.stream.CHUNK_CLIPS", 1)
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEfmt garbage")
    table = pd.concat(
        [many_clips.head(3), pd.DataFrame([{"clip_id": "broken", "path": str(bad)}]),
         many_clips.iloc[3:]],
        ignore_index=True,
    )  # fmt: skip
    stream = ClipEmbeddingStream(
        table, CountingEmbedder(), hop_size=0.5, batch_size=1, on_error="error", progress=False
    )
    seen = []
    with pytest.raises(AudioError, match=r"broken\.wav"):
        for chunk in stream:
            seen.extend(chunk.clips["clip_id"])
    assert seen == many_clips["clip_id"].head(3).tolist()
    assert stream.skips == []
    _assert_no_producer_left()


def test_any_producer_exception_reaches_the_consumer(many_clips, monkeypatch):
    def broken_decode(path: str, sr: int) -> np.ndarray:
        raise RuntimeError(f"decoder bug on {path}")

    monkeypatch.setattr("l3_kedro.embedding.stream._decode", broken_decode)
    stream = ClipEmbeddingStream(many_clips, CountingEmbedder(), hop_size=0.5, progress=False)
    with pytest.raises(RuntimeError, match="decoder bug"):
        list(stream)
    _assert_no_producer_left()


def _assert_no_producer_left(timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [
            t.name
            for t in threading.enumerate()
            if t.name.startswith(("ClipEmbeddingStream", "decode"))
        ]
        if not alive:
            return
        time.sleep(0.05)
    raise AssertionError(f"threads still running: {alive}")


def test_closing_the_stream_early_stops_the_producer(many_clips, monkeypatch):
    monkeypatch.setattr("l3_kedro.embedding.stream.CHUNK_CLIPS", 1)
    long_table = pd.concat([many_clips] * 4, ignore_index=True)  # 120 clips
    stream = ClipEmbeddingStream(
        long_table, CountingEmbedder(), hop_size=0.1, batch_size=2, progress=False
    )
    chunks = iter(stream)
    first = next(chunks)
    assert len(first.clips) == 1
    time.sleep(0.3)  # let the producer fill its queue and block on it
    start = time.monotonic()
    chunks.close()
    assert time.monotonic() - start < 5
    _assert_no_producer_left()
    for _ in stream:  # a closed iteration leaves the stream reusable
        break


def test_an_interrupt_in_the_model_call_stops_the_producer(many_clips):
    embedder = CountingEmbedder(fail_at=2, exc=KeyboardInterrupt())
    stream = ClipEmbeddingStream(
        pd.concat([many_clips] * 4, ignore_index=True),
        embedder,
        hop_size=0.1,
        batch_size=2,
        progress=False,
    )
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        list(stream)
    assert time.monotonic() - start < 10
    _assert_no_producer_left()


def test_the_stream_needs_neither_kedro_nor_pyav():
    code = (
        "import sys; import l3_kedro.embedding.stream, l3_kedro.datasets.embedding_store; "
        "bad = [m for m in ('kedro', 'kedro_datasets', 'mlflow', 'av') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
