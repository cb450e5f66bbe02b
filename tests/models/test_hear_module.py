"""``embed.models.<name>: {kind: hear}``: any HEAR 2021 module as an embedding."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from l3_kedro import hear
from l3_kedro.audio import load_audio
from l3_kedro.datasets import EmbeddingStoreDataset
from l3_kedro.datasets.fingerprint import embedding_fingerprint
from l3_kedro.embedding.embedders import build_embedder
from l3_kedro.errors import ModelError, ParameterError
from l3_kedro.layouts.urbansound8k import read_urbansound8k
from l3_kedro.pipelines.embed.nodes import compute_embeddings
from tests.api_fixtures import assert_same_embeddings, save_tiny_checkpoint
from tests.conftest import EMBEDDED_RAW

SETTINGS = {
    "hop_size": 1.0,
    "center": True,
    "batch_size": 8,
    "store_dtype": "float32",
    "on_error": "skip",
}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return str(save_tiny_checkpoint(tmp_path_factory.mktemp("hear_module"), "mel128"))


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    """2.5 s of a real UrbanSound8K clip at 48 kHz, shape (120000,)."""
    path = sorted((EMBEDDED_RAW / "urbansound8k" / "audio" / "fold1").glob("*.flac"))[0]
    return load_audio(path, sr=48_000)[0][:120_000]


def test_l3_kedro_hear_windows_are_its_timestamp_embeddings_a_hop_apart(checkpoint, clip):
    embedder = build_embedder(
        "mine", {"kind": "hear", "module": "l3_kedro.hear", "weights": checkpoint}
    )
    assert embedder.sample_rate == 48_000 and embedder.embedding_size == 64
    assert embedder.attributes["kind"] == "hear"
    assert embedder.attributes["module"] == "l3_kedro.hear"
    embeddings, timestamps = embedder.embed(clip, 48_000, hop_size=1.0)
    np.testing.assert_allclose(timestamps, [0.0, 1.0, 2.0])  # every 20th 50 ms timestamp
    every, _ = hear.get_timestamp_embeddings(clip[None], hear.load_model(checkpoint))
    assert_same_embeddings(embeddings, every[0, ::20])
    # the module's own hop (a load_model option) computes only those windows
    direct = build_embedder(
        "direct",
        {
            "kind": "hear",
            "module": "l3_kedro.hear",
            "weights": checkpoint,
            "load_options": {"hop_size": 1.0},
        },
    )
    same, stamps = direct.embed(clip, 48_000, hop_size=1.0)
    np.testing.assert_allclose(stamps, timestamps)
    assert_same_embeddings(same, embeddings)
    finer, finer_stamps = embedder.embed(clip, 48_000, hop_size=0.1)
    np.testing.assert_allclose(finer_stamps, np.arange(26) * 0.1)
    assert finer.shape == (26, 64)


def test_a_torch_module_at_its_own_rate_and_hop():
    pytest.importorskip("torch")
    embedder = build_embedder(
        "melproj", {"kind": "hear", "module": "tests.hear_modules.torch_logmel"}
    )
    assert embedder.sample_rate == 16_000 and embedder.embedding_size == 32
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, 16_000 * 2).astype(np.float32)
    embeddings, timestamps = embedder.embed(audio, 16_000, hop_size=0.1)
    np.testing.assert_allclose(timestamps, np.arange(21) * 0.1)  # every 4th of 25 ms
    assert embeddings.shape == (21, 32) and embeddings.dtype == np.float32
    with pytest.raises(ParameterError, match="16000 Hz"):
        embedder.embed(audio, 48_000, hop_size=0.1)


def test_a_hear_entry_goes_through_the_embed_node_into_a_store(tmp_path, checkpoint):
    pytest.importorskip("torch")
    clips = read_urbansound8k(root=EMBEDDED_RAW / "urbansound8k").head(3)
    for name, spec in (
        (
            "l3_hear",
            {
                "kind": "hear",
                "module": "l3_kedro.hear",
                "weights": checkpoint,
                "load_options": {"hop_size": 1.0},
            },
        ),
        ("melproj", {"kind": "hear", "module": "tests.hear_modules.torch_logmel"}),
    ):
        dataset = EmbeddingStoreDataset(filepath=str(tmp_path / f"{name}.h5"))
        dataset.save(compute_embeddings(clips, spec, SETTINGS, model_name=name))
        with dataset.load() as store:
            assert store.clips["clip_id"].tolist() == clips["clip_id"].tolist()
            assert store.attributes["kind"] == "hear"
            assert store.attributes["hop_size"] == 1.0
            # 4 s clips: windows centred on 0, 1, 2, 3 and 4 s
            np.testing.assert_array_equal(np.bincount(store.window_clip), [5, 5, 5])
            np.testing.assert_allclose(store.timestamps[:5], np.arange(5.0))
            assert np.isfinite(store.embeddings[:]).all()


def test_bad_hear_entries_name_the_parameter(tmp_path):
    with pytest.raises(ModelError, match=r"embed\.models\.h\.module.*cannot be imported"):
        build_embedder("h", {"kind": "hear", "module": "no_such_hear_module"})
    with pytest.raises(ModelError, match=r"not a HEAR 2021 module.*get_timestamp_embeddings"):
        build_embedder("h", {"kind": "hear", "module": "json"})
    with pytest.raises(ParameterError, match=r"embed\.models\.h\.module"):
        build_embedder("h", {"kind": "hear"})
    with pytest.raises(ModelError, match=r"embed\.models\.h\.weights"):
        build_embedder("h", {"kind": "hear", "module": "l3_kedro.hear", "weights": "nowhere.keras"})
    with pytest.raises(ParameterError, match="does not take"):
        build_embedder("h", {"kind": "hear", "module": "l3_kedro.hear", "layer": "conv5"})
    broken = tmp_path / "broken.keras"
    broken.write_text("not a model")
    with pytest.raises(ModelError, match=r"l3_kedro\.hear\.load_model.*embed\.models\.h"):
        build_embedder("h", {"kind": "hear", "module": "l3_kedro.hear", "weights": str(broken)})


def test_the_module_source_counts_in_the_fingerprint(tmp_path, monkeypatch):
    module = tmp_path / "my_hear_module.py"
    module.write_text("VERSION = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    clips = pd.DataFrame({"clip_id": ["a"], "path": ["a.wav"]})
    spec = {"kind": "hear", "module": "my_hear_module"}
    before = embedding_fingerprint(clips, spec, SETTINGS)
    assert embedding_fingerprint(clips, spec, SETTINGS) == before
    module.write_text("VERSION = 22\n")  # a new release of the module
    assert embedding_fingerprint(clips, spec, SETTINGS) != before


def test_a_module_output_of_the_wrong_shape_is_a_model_error(checkpoint, clip):
    embedder = build_embedder(
        "h", {"kind": "hear", "module": "l3_kedro.hear", "weights": checkpoint}
    )

    def transposed(audio, model):
        embeddings, timestamps = hear.get_timestamp_embeddings(audio, model)
        return np.swapaxes(embeddings, 1, 2), timestamps

    embedder._module = SimpleNamespace(get_timestamp_embeddings=transposed)
    with pytest.raises(ModelError, match=r"returned embeddings \(1, 64, 51\)"):
        embedder.embed(clip, 48_000, hop_size=1.0)
