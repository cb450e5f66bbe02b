"""Tests of the VGGish clip embedder (``models.vggish``).

The TF-Hub VGGish cannot be downloaded here. The tests export, with
``tf.saved_model.save``, a tiny ``tf.Module`` with the same interface as the
TF-Hub export (``vggish_export_tfhub.py``): ``__call__`` is a ``tf.function``
with input signature ``TensorSpec([None], tf.float32)`` and returns a float32
[N, 128] tensor. It frames exactly as VGGish does (STFT frames of 400 samples
every 160, patches of 96 frames every 96, no padding) and its embedding of a
patch is readable: columns 0-95 hold the mean |sample| of each of the patch's
96 STFT frames, columns 96-127 a constant stored in a variable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from l3_kedro.audio.io import resample
from l3_kedro.errors import AudioError, AudioWarning, ModelError, ParameterError
from l3_kedro.models.vggish import (
    PATCH_HOP_SAMPLES,
    PATCH_SAMPLES,
    VGGishEmbedder,
    vggish_patch_count,
)

SR = 16_000
CONSTANT = 0.25


class TinyVGGish(tf.Module):
    """Same call signature and framing as the TF-Hub VGGish; readable embeddings."""

    def __init__(self, width: int = 128):
        super().__init__()
        self.tail = tf.Variable(np.full(width - 96, CONSTANT, np.float32))

    @tf.function(input_signature=(tf.TensorSpec(shape=[None], dtype=tf.float32),))
    def __call__(self, waveform):
        frames = tf.signal.frame(waveform, 400, 160)  # [F, 400]
        patches = tf.signal.frame(frames, 96, 96, axis=0)  # [N, 96, 400]
        level = tf.reduce_mean(tf.abs(patches), axis=-1)  # [N, 96]
        tail = tf.tile(self.tail[None, :], [tf.shape(level)[0], 1])
        return tf.concat([level, tail], axis=1)


class MatrixInput(tf.Module):
    """Takes a 2-D batch of waveforms: not VGGish's signature."""

    @tf.function(input_signature=(tf.TensorSpec(shape=[None, None], dtype=tf.float32),))
    def __call__(self, waveforms):
        return tf.zeros([tf.shape(waveforms)[0], 128])


class YamnetLike(tf.Module):
    """Same input as VGGish but three outputs, like YAMNet."""

    @tf.function(input_signature=(tf.TensorSpec(shape=[None], dtype=tf.float32),))
    def __call__(self, waveform):
        n = tf.shape(tf.signal.frame(waveform, 15600, 15360))[0]
        return tf.zeros([n, 521]), tf.zeros([n, 1024]), tf.zeros([n, 64])


class SignatureOnly(tf.Module):
    """Not callable after loading; VGGish's function as its 'serving_default' signature."""

    def __init__(self):
        super().__init__()
        self.inner = TinyVGGish()

    @tf.function(input_signature=(tf.TensorSpec(shape=[None], dtype=tf.float32),))
    def embed(self, waveform):
        return {"embedding": self.inner(waveform)}


def export(module: tf.Module, path: Path, **kwargs) -> Path:
    tf.saved_model.save(module, str(path), **kwargs)
    return path


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("vggish")
    signature_only = SignatureOnly()
    return {
        "vggish": export(TinyVGGish(), root / "vggish"),
        "width110": export(TinyVGGish(width=110), root / "width"),
        "matrix": export(MatrixInput(), root / "matrix"),
        "yamnet": export(YamnetLike(), root / "yamnet"),
        "signature": export(
            signature_only, root / "signature", signatures={"serving_default": signature_only.embed}
        ),
    }


@pytest.fixture(scope="module")
def embedder(exports) -> VGGishEmbedder:
    return VGGishEmbedder(exports["vggish"], name="vggish_test")


def click(n: int, at: int) -> np.ndarray:
    audio = np.zeros(n, np.float32)
    audio[at] = 1.0
    return audio


def test_patch_count_matches_the_model(exports):
    model = tf.saved_model.load(str(exports["vggish"]))
    for n in (0, 399, 15_599, 15_600, 30_959, 30_960, 48_000, 160_000):
        got = model(tf.zeros([n])).shape[0]
        assert got == vggish_patch_count(n), n


def test_attributes(embedder, exports):
    assert embedder.sample_rate == 16_000
    assert embedder.embedding_size == 128
    assert embedder.default_hop_size == 0.96
    assert embedder.attributes == {
        "name": "vggish_test",
        "kind": "vggish",
        "path": str(exports["vggish"]),
        "sample_rate": 16_000,
        "hop_size": 0.96,
        "embedding_size": 128,
    }


@pytest.mark.parametrize(
    ("seconds", "expected"), [(0.975, 1), (1.0, 2), (1.935, 2), (1.94, 3), (10.0, 11)]
)
def test_every_sample_is_embedded(embedder, seconds, expected):
    audio = np.full(round(seconds * SR), 0.5, np.float32)
    embeddings, timestamps = embedder.embed(audio, SR)
    assert embeddings.shape == (expected, 128)
    assert embeddings.dtype == np.float32
    np.testing.assert_allclose(timestamps, np.arange(expected) * 0.96)
    np.testing.assert_allclose(embeddings[:, 96:], CONSTANT)
    # the last sample reaches the last patch
    last = round(seconds * SR) - 1 - (expected - 1) * PATCH_HOP_SAMPLES
    assert embeddings[-1, min(last // 160, 95)] > 0


def test_framing_has_no_offset(embedder):
    embeddings, timestamps = embedder.embed(click(5 * SR, 32_000), SR)  # a click at 2.0 s
    rows = np.flatnonzero(embeddings[:, :96].any(axis=1))
    assert rows.tolist() == [2]  # patch 2 reads samples [30720, 46320)
    columns = np.flatnonzero(embeddings[2, :96])
    assert columns.tolist() == [6, 7, 8]  # STFT frames reading sample 1280 of the patch
    assert timestamps[2] == pytest.approx(1.92)


def test_center_puts_patch_i_around_i_hop(embedder):
    for k in (0, 1, 3):
        at = k * PATCH_HOP_SAMPLES
        embeddings, timestamps = embedder.embed(click(5 * SR, at), SR, center=True)
        assert np.argmax(embeddings[:, :96].sum(axis=1)) == k
        assert np.flatnonzero(embeddings[k, :96]).tolist() == [47, 48]  # the middle frames
        assert timestamps[k] == pytest.approx(0.96 * k)
    assert embedder.embed(np.ones(5 * SR, np.float32), SR, center=True)[0].shape == (6, 128)


def test_short_clip_is_padded_with_a_warning(embedder):
    audio = np.full(SR // 2, 0.5, np.float32)
    with pytest.warns(AudioWarning, match="under VGGish's 0.96 s patch"):
        embeddings, timestamps = embedder.embed(audio, SR)
    assert embeddings.shape == (1, 128)
    assert timestamps.tolist() == [0.0]
    level = embeddings[0, :96]
    np.testing.assert_allclose(level[:48], 0.5)  # frames inside the 8000 samples
    np.testing.assert_allclose(level[50:], 0.0)  # frames in the padding


def test_resamples_and_mixes_down(embedder):
    t44 = np.arange(3 * 44_100) / 44_100
    t16 = np.arange(3 * SR) / SR
    tone44 = (0.5 * np.sin(2 * np.pi * 440 * t44)).astype(np.float32)
    tone16 = (0.5 * np.sin(2 * np.pi * 440 * t16)).astype(np.float32)
    stereo = np.stack([tone44 + 0.1, tone44 - 0.1])  # mean is the tone
    from_44k, ts44 = embedder.embed(stereo, 44_100)
    native, ts16 = embedder.embed(tone16, SR)
    assert from_44k.shape == native.shape == (4, 128)
    np.testing.assert_allclose(ts44, ts16)
    np.testing.assert_allclose(from_44k[:2], native[:2], atol=2e-3)  # 2 full patches
    via_resample, _ = embedder.embed(resample(tone44, 44_100, SR), SR)
    np.testing.assert_array_equal(from_44k, via_resample)


def test_chunking_does_not_change_results(exports, rng):
    audio = rng.uniform(-1, 1, 10 * SR).astype(np.float32)
    whole, _ = VGGishEmbedder(exports["vggish"]).embed(audio, SR)
    pieces, _ = VGGishEmbedder(exports["vggish"], max_patches_per_call=3).embed(audio, SR)
    assert whole.shape == (11, 128)
    np.testing.assert_allclose(pieces, whole, rtol=1e-6)


def test_signature_only_export_is_accepted(exports, embedder):
    audio = np.linspace(-1, 1, 3 * SR, dtype=np.float32)
    got, _ = VGGishEmbedder(exports["signature"]).embed(audio, SR)
    np.testing.assert_allclose(got, embedder.embed(audio, SR)[0], rtol=1e-6)


# --- errors -------------------------------------------------------------------------------


def test_hop_size_is_fixed(embedder):
    audio = np.ones(2 * SR, np.float32)
    with pytest.raises(ParameterError, match=r"hop_size=0.5: VGGish's hop is fixed at 0.96 s"):
        embedder.embed(audio, SR, hop_size=0.5)
    assert embedder.embed(audio, SR, hop_size=0.96)[0].shape == (3, 128)


def test_bad_audio(embedder):
    with pytest.raises(AudioError, match="NaN"):
        embedder.embed(np.full(SR, np.nan, np.float32), SR)
    with pytest.raises(AudioError, match="empty"):
        embedder.embed(np.zeros(0, np.float32), SR)
    with pytest.raises(ParameterError, match="center"):
        embedder.embed(np.ones(SR, np.float32), SR, center="yes")


def test_missing_path(tmp_path):
    with pytest.raises(ModelError, match=r"vggish_hub not found.*tfhub\.dev/google/vggish/1"):
        VGGishEmbedder(tmp_path / "vggish_hub")


def test_not_a_savedmodel(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.pb").write_bytes(b"\x00")
    for path in (tmp_path / "empty", tmp_path / "file.pb"):
        with pytest.raises(ModelError, match=rf"{path.name} is not a SavedModel directory"):
            VGGishEmbedder(path)


def test_damaged_savedmodel(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "saved_model.pb").write_bytes(b"not a protobuf")
    with pytest.raises(ModelError, match=r"Cannot load the VGGish SavedModel .*broken"):
        VGGishEmbedder(tmp_path / "broken")


@pytest.mark.parametrize(
    ("export_name", "message"),
    [
        ("matrix", r"matrix does not accept a 1-D float32 waveform"),
        ("yamnet", r"yamnet returns 3 tensors.*YAMNet"),
        ("width110", r"width maps 30960 samples to float32 \(2, 110\)"),
    ],
)
def test_wrong_signature(exports, export_name, message):
    with pytest.raises(ModelError, match=message):
        VGGishEmbedder(exports[export_name])


def test_bad_chunk_size(exports):
    with pytest.raises(ParameterError, match="max_patches_per_call"):
        VGGishEmbedder(exports["vggish"], max_patches_per_call=0)


def test_constants():
    assert PATCH_SAMPLES == 400 + 95 * 160
    assert PATCH_HOP_SAMPLES == 96 * 160
