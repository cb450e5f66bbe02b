"""Tests for l3_kedro.models.handcrafted (log-mel and MFCC statistics per window)."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import pytest

from l3_kedro.audio import frame_audio, load_audio, resample
from l3_kedro.errors import AudioError, AudioWarning, ParameterError
from l3_kedro.models.handcrafted import HandcraftedEmbedder, default_n_fft

SR = 22_050
US8K_FOLD1 = Path("urbansound8k_subset", "audio", "fold1")
# Three clips each of three UrbanSound8K classes (fold 1).
US8K_BY_CLASS = {
    "dog_bark": ["101415-3-0-2.flac", "101415-3-0-8.flac", "102106-3-0-0.flac"],
    "siren": ["106905-8-0-0.flac", "106905-8-0-2.flac", "118279-8-0-0.flac"],
    "jackhammer": ["103074-7-0-0.flac", "103074-7-1-0.flac", "103074-7-1-2.flac"],
}


@pytest.fixture(scope="module")
def embedder() -> HandcraftedEmbedder:
    return HandcraftedEmbedder()


def tone(freq_hz: float, seconds: float, sr: int = SR) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def test_shapes_and_timestamps_follow_frame_audio(embedder, rng):
    audio = (0.1 * rng.standard_normal(4 * SR)).astype(np.float32)
    embeddings, timestamps = embedder.embed(audio, SR)
    _, expected_timestamps = frame_audio(audio, SR, hop_size=0.1, center=True)
    assert embedder.embedding_size == 2 * 128 + 4 * 20 == 336
    assert embeddings.shape == (36, 336) and embeddings.dtype == np.float32
    np.testing.assert_array_equal(timestamps, expected_timestamps)
    embeddings, timestamps = embedder.embed(audio, SR, hop_size=1.0, center=False)
    assert embeddings.shape == (4, 336)
    np.testing.assert_allclose(timestamps, [0.0, 1.0, 2.0, 3.0])


def test_embedding_size_follows_parameters():
    small = HandcraftedEmbedder(sample_rate=48_000, n_mels=40, n_mfcc=13)
    embeddings, _ = small.embed(tone(440.0, 2.0, sr=48_000), 48_000, hop_size=0.5)
    assert small.embedding_size == 2 * 40 + 4 * 13
    assert embeddings.shape == (4, small.embedding_size)  # 1 + ceil((2.5 - 1) / 0.5)
    assert (default_n_fft(22_050), default_n_fft(48_000)) == (2048, 4096)


def test_features_match_librosa_reference(embedder, rng):
    window = (0.2 * rng.standard_normal(SR)).astype(np.float32)
    got = embedder.embed_windows(window[None])[0]
    mel = librosa.feature.melspectrogram(y=window, sr=SR, n_fft=2048, hop_length=512, n_mels=128)
    log_mel = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=20)
    delta = librosa.feature.delta(mfcc, width=9)
    expected = np.concatenate(
        [f(x, axis=-1) for x in (log_mel, mfcc, delta) for f in (np.mean, np.std)]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-2)


def test_embed_windows_agrees_with_embed(embedder, rng):
    audio = (0.1 * rng.standard_normal(2 * SR)).astype(np.float32)
    windows, _ = frame_audio(audio, SR, hop_size=0.25, center=True)
    np.testing.assert_array_equal(
        embedder.embed_windows(windows), embedder.embed(audio, SR, hop_size=0.25)[0]
    )
    assert embedder.embed_windows(np.zeros((0, SR), np.float32)).shape == (0, 336)
    with pytest.raises(AudioError, match="shape"):
        embedder.embed_windows(audio)


def test_deterministic_and_chunking_invariant(rng):
    audio = (0.1 * rng.standard_normal(3 * SR)).astype(np.float32)
    whole = HandcraftedEmbedder(chunk_size=64).embed(audio, SR)[0]
    np.testing.assert_array_equal(whole, HandcraftedEmbedder(chunk_size=64).embed(audio, SR)[0])
    # Equal up to float32 rounding: BLAS sums a chunk of 7 and one of 64 in a different order
    # (numpy 2.4 differs by up to 4e-6 on features of magnitude 50); a misaligned chunk
    # differs by whole units.
    chunked = HandcraftedEmbedder(chunk_size=7).embed(audio, SR)[0]
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-5)


def test_finite_on_silence_short_and_stereo_audio(embedder):
    with pytest.warns(AudioWarning, match="zeros"):
        silent, _ = embedder.embed(np.zeros(SR, np.float32), SR)
    assert np.isfinite(silent).all()
    np.testing.assert_allclose(silent[:, :128], -100.0)  # log-mel floor
    with pytest.warns(AudioWarning, match="shorter"):
        short, timestamps = embedder.embed(tone(440.0, 0.2), SR)
    assert short.shape == (1, 336) and np.isfinite(short).all() and timestamps.tolist() == [0.0]
    stereo = np.stack([tone(440.0, 1.5), tone(880.0, 1.5)])
    np.testing.assert_allclose(
        embedder.embed(stereo, SR)[0], embedder.embed(stereo.mean(axis=0), SR)[0], atol=1e-4
    )


def test_resamples_to_its_rate(embedder):
    audio = tone(1_000.0, 2.0)
    at_44k = embedder.embed(resample(audio, SR, 44_100), 44_100)[0]
    at_22k = embedder.embed(audio, SR)[0]
    # equal up to the resampler's effect near Nyquist (the top mel bands)
    np.testing.assert_allclose(at_44k[:, :120], at_22k[:, :120], atol=0.5)
    assert np.corrcoef(at_44k.ravel(), at_22k.ravel())[0, 1] > 0.999


def test_different_sounds_differ(embedder, rng):
    low, _ = embedder.embed(tone(200.0, 2.0), SR, hop_size=0.5)
    high, _ = embedder.embed(tone(4_000.0, 2.0), SR, hop_size=0.5)
    white, _ = embedder.embed((0.1 * rng.standard_normal(2 * SR)).astype(np.float32), SR)
    mel_freqs = librosa.mel_frequencies(n_mels=128, fmax=SR / 2)
    peak_band = [mel_freqs[emb[2, :128].argmax()] for emb in (low, high)]
    assert peak_band[0] < 400 and peak_band[1] > 3_000
    assert white[:, :128].std(axis=1).mean() < low[:, :128].std(axis=1).mean()  # flat spectrum


def test_rejects_bad_parameters_and_audio(embedder):
    with pytest.raises(ParameterError, match="sample_rate"):
        HandcraftedEmbedder(sample_rate=16_000)
    with pytest.raises(ParameterError, match="n_mfcc"):
        HandcraftedEmbedder(n_mels=16, n_mfcc=20)
    with pytest.raises(ParameterError, match="hop_length"):
        HandcraftedEmbedder(hop_length=4096)
    with pytest.raises(ParameterError, match="hop_size"):
        embedder.embed(tone(440.0, 1.0), SR, hop_size=0.0)
    with pytest.raises(AudioError):
        embedder.embed(np.zeros(0, np.float32), SR)
    with pytest.raises(ParameterError, match="sample rates"):
        embedder.embed_batch([tone(440.0, 1.0)], [SR, SR])


@pytest.mark.shared_data
def test_real_sound_classes_separate(embedder, shared_data):
    folder = shared_data / US8K_FOLD1
    if not folder.is_dir():
        pytest.skip(f"{folder} absent")
    labels, clip_features = [], []
    for label, names in US8K_BY_CLASS.items():
        for name in names:
            audio, sr = load_audio(folder / name)
            embeddings, _ = embedder.embed(audio, sr, hop_size=0.5)
            assert np.isfinite(embeddings).all() and embeddings.std(axis=0).max() > 0
            labels.append(label)
            clip_features.append(embeddings.mean(axis=0))
    features = np.stack(clip_features)
    features = (features - features.mean(axis=0)) / (features.std(axis=0) + 1e-6)
    distances = np.linalg.norm(features[:, None] - features[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    nearest = [labels[j] for j in distances.argmin(axis=1)]
    accuracy = np.mean([a == b for a, b in zip(labels, nearest, strict=True)])
    assert accuracy >= 2 / 3  # leave-one-out 1-NN on clip means; chance is 1/3
