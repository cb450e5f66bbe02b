"""Fast mode: the tower over spans of windows gives the exact mode's windows, close to its numbers."""

from __future__ import annotations

import numpy as np
import pytest

from l3_kedro.audio import count_windows, frame_audio, load_audio
from l3_kedro.audio.constants import TARGET_SR, WINDOW_SAMPLES
from l3_kedro.datasets.fingerprint import embedding_fingerprint
from l3_kedro.embedding.embedders import ClipEmbedder, build_embedder
from l3_kedro.embedding.fast import L3FastEmbedder, embed_mode
from l3_kedro.errors import ModelError, ParameterError

TOWER = {"kind": "l3_random", "input_repr": "mel128", "width": 0.125, "seed": 0}


@pytest.fixture(scope="module")
def exact():
    return build_embedder("l3", TOWER)


@pytest.fixture(scope="module")
def fast(exact):
    return L3FastEmbedder(exact, span_s=3.0)


@pytest.fixture(scope="module")
def street(embedded_raw):
    """A real UrbanSound8K clip (4 s) at 48 kHz."""
    path = sorted((embedded_raw / "urbansound8k" / "audio").rglob("*.flac"))[0]
    return load_audio(path, sr=TARGET_SR)[0]


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, D), (m, D) -> (n, m) cosine similarities."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return a @ b.T


@pytest.mark.parametrize("seconds", [0.3, 1.0, 4.0, 7.7])
@pytest.mark.parametrize(("hop", "center"), [(0.1, True), (0.25, False), (1.0, True)])
def test_fast_mode_gives_the_exact_modes_windows_and_timestamps(fast, rng, seconds, hop, center):
    audio = rng.uniform(-0.5, 0.5, round(seconds * TARGET_SR)).astype(np.float32)
    windows, timestamps = frame_audio(audio, TARGET_SR, hop_size=hop, center=center)
    embeddings, stamps = fast.embed(audio, TARGET_SR, hop_size=hop, center=center)
    assert embeddings.shape == (len(windows), fast.embedding_size)
    assert embeddings.dtype == np.float32 and np.isfinite(embeddings).all()
    np.testing.assert_array_equal(stamps, timestamps)


def _nearest_exact_windows(exact, fast, audio):
    """Index of the most similar exact window of each fast window, and the mean cosine."""
    windows, _ = frame_audio(audio, TARGET_SR, hop_size=0.1)
    reference = exact.embed_windows(windows)
    embeddings, _ = fast.embed(audio, TARGET_SR, hop_size=0.1, center=True)
    # The embeddings of a clip share a large common part; what varies is compared.
    mean = reference.mean(axis=0)
    nearest = _cosine(embeddings - mean, reference - mean).argmax(axis=1)
    return nearest, np.diag(_cosine(embeddings, reference)).mean()


def test_fast_mode_is_close_to_exact_mode_window_by_window(exact, fast, street):
    nearest, similarity = _nearest_exact_windows(exact, fast, street)
    assert similarity > 0.9
    assert np.median(np.abs(nearest - np.arange(len(nearest)))) <= 3


def test_fast_mode_finds_a_sound_in_the_windows_that_hold_it(exact, fast, rng):
    audio = (0.01 * rng.standard_normal(6 * TARGET_SR)).astype(np.float32)
    tone = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(TARGET_SR // 5) / TARGET_SR)
    audio[3 * TARGET_SR : 3 * TARGET_SR + tone.size] += tone.astype(np.float32)  # 3.0-3.2 s
    nearest, similarity = _nearest_exact_windows(exact, fast, audio)
    centres = np.arange(len(nearest)) * 0.1  # a window spans its centre +- 0.5 s
    holds = (centres > 2.5) & (centres < 3.7)
    assert similarity > 0.9
    assert (holds[nearest] == holds).mean() > 0.9


def test_the_span_length_moves_the_numbers_little(exact, street):
    short = L3FastEmbedder(exact, span_s=2.0).embed(street, TARGET_SR, hop_size=0.1, center=True)
    long = L3FastEmbedder(exact, span_s=30.0).embed(street, TARGET_SR, hop_size=0.1, center=True)
    assert np.diag(_cosine(short[0], long[0])).mean() > 0.95


def test_a_span_of_one_window_is_scaled_as_the_exact_front_end_at_its_centre(exact, fast, street):
    window = street[:WINDOW_SAMPLES]
    ours = np.asarray(fast._tower.spectrogram(window))[0, :, :, 0]
    reference = np.asarray(exact.model.get_layer("audio_frontend")(window[None]))[0, :, :, 0]
    assert ours.shape == reference.shape
    centre = reference.shape[1] // 2  # the frame whose 1 s neighbourhood is the whole window
    np.testing.assert_allclose(ours[:, centre], reference[:, centre], atol=1e-4)
    assert ours.max() == 0.0 and ours.min() >= -80.0


def test_fast_mode_is_an_option_of_the_l3_kinds_only():
    assert embed_mode("h", {"kind": "handcrafted"}, {"mode": "fast"}) == {"kind": "handcrafted"}
    assert embed_mode("l3", TOWER, {"mode": "exact", "span_s": 4}) == TOWER
    assert embed_mode("l3", TOWER, {"mode": "fast"})["span_s"] == 10.0
    assert embed_mode("l3", {**TOWER, "span_s": 4}, {"mode": "fast"})["span_s"] == 4.0
    assert embed_mode("l3", {**TOWER, "mode": "exact"}, {"mode": "fast"}) == TOWER
    with pytest.raises(ParameterError, match=r"embed\.models\.h\.mode.*kinds"):
        embed_mode("h", {"kind": "handcrafted", "mode": "fast"}, {})
    with pytest.raises(ParameterError, match=r"'embed\.mode' must be one of"):
        embed_mode("l3", TOWER, {"mode": "quick"})
    with pytest.raises(ParameterError, match=r"embed\.span_s"):
        embed_mode("l3", TOWER, {"mode": "fast", "span_s": 0})


def test_build_embedder_makes_a_clip_embedder_with_the_mode_in_its_attributes():
    embedder = build_embedder("l3", {**TOWER, "mode": "fast", "span_s": 5})
    assert isinstance(embedder, ClipEmbedder)
    assert embedder.attributes["mode"] == "fast" and embedder.attributes["span_s"] == 5.0
    assert "mode" not in build_embedder("l3", TOWER).attributes


def test_a_model_without_front_end_has_no_fast_mode():
    from l3_kedro.models.audio_tower import build_audio_tower
    from l3_kedro.models.span_tower import SpanTower

    model = build_audio_tower(input_repr="mel128", width=0.125, include_frontend=False)
    with pytest.raises(ModelError, match="front-end"):
        SpanTower(model)


def test_the_exact_modes_fingerprint_does_not_change():
    """Stores made before fast mode existed are still reused."""
    import pandas as pd

    clips = pd.DataFrame({"clip_id": ["a"], "label": ["x"]})
    before = embedding_fingerprint(clips, TOWER, {"hop_size": 0.1})
    assert embedding_fingerprint(clips, TOWER, {"hop_size": 0.1, "mode": "exact"}) == before
    fast_spec = embed_mode("l3", TOWER, {"mode": "fast"})
    assert embedding_fingerprint(clips, fast_spec, {"hop_size": 0.1, "mode": "fast"}) != before


def test_the_api_embeds_lists_of_clips_in_fast_mode(exact, street, rng):
    from l3_kedro.api import get_audio_embedding

    clips = [street, rng.uniform(-0.1, 0.1, 30_000), street[: 3 * TARGET_SR]]
    rates = [TARGET_SR, 22_050, TARGET_SR]
    ours, stamps = get_audio_embedding(clips, rates, model=exact.model, mode="fast")
    reference, reference_stamps = get_audio_embedding(clips, rates, model=exact.model)
    for a, b, ta, tb in zip(ours, reference, stamps, reference_stamps, strict=True):
        np.testing.assert_array_equal(ta, tb)
        assert a.shape == b.shape and np.diag(_cosine(a, b)).mean() > 0.9
    with pytest.raises(ParameterError, match="mode must be 'exact' or 'fast'"):
        get_audio_embedding(street, TARGET_SR, model=exact.model, mode="quick")


def test_the_embed_node_runs_fast_mode_for_l3_and_exact_mode_for_the_others(embedded_raw):
    from l3_kedro.layouts.urbansound8k import read_urbansound8k
    from l3_kedro.pipelines.embed.nodes import compute_embeddings

    clips = read_urbansound8k(root=embedded_raw / "urbansound8k").head(3)
    settings = {
        "hop_size": 0.25, "center": True, "batch_size": 8, "store_dtype": "float32",
        "on_error": "skip", "reuse": False, "mode": "fast", "span_s": 2.0,
    }  # fmt: skip
    runs = {
        name: compute_embeddings(clips, spec, settings, model_name=name)
        for name, spec in {"l3": TOWER, "handcrafted": {"kind": "handcrafted"}}.items()
    }
    assert runs["l3"].attributes["mode"] == "fast" and runs["l3"].attributes["span_s"] == 2.0
    assert "mode" not in runs["handcrafted"].attributes
    chunks = list(runs["l3"].chunks)
    assert sum(len(c.clips) for c in chunks) == 3
    per_clip = count_windows(4 * TARGET_SR, TARGET_SR, hop_size=0.25)  # 4 s clips
    assert [n for c in chunks for n in c.windows_per_clip] == [per_clip] * 3


@pytest.mark.parametrize("input_repr", ["linear", "mel256"])
@pytest.mark.parametrize("embedding_size", [512, 6144])
def test_every_representation_and_size_has_a_fast_mode(street, input_repr, embedding_size):
    spec = {**TOWER, "input_repr": input_repr, "embedding_size": embedding_size}
    exact = build_embedder("l3", spec)
    windows, _ = frame_audio(street, TARGET_SR, hop_size=0.2)
    reference = exact.embed_windows(windows)
    embeddings, _ = L3FastEmbedder(exact).embed(street, TARGET_SR, hop_size=0.2, center=True)
    assert embeddings.shape == reference.shape
    assert np.diag(_cosine(embeddings, reference)).mean() > 0.9
