"""Each message a user reads after a mistake says what is wrong, where, and what to do.

One test per message that once misled (issue: offline and faults).
"""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest

from l3_kedro.errors import AudioError, ModelError, ParameterError
from tests.api_fixtures import FSDD_FILES


def test_a_3d_array_names_the_apis_own_layout():
    """The API takes (n, channels): the 3-D message must not suggest (channels, n)."""
    from l3_kedro import api

    with pytest.raises(AudioError) as info:
        api.preprocess_audio(np.zeros((2, 3, 48000), np.float32), 48000, input_repr="mel128")
    assert "(n,) or (n, channels)" in str(info.value)
    assert "(channels, n)" not in str(info.value)
    assert "(2, 3, 48000)" in str(info.value)


@pytest.mark.parametrize("loader", ["api", "l3net"])
def test_a_text_file_named_keras_is_not_called_missing(tmp_path, loader):
    text = tmp_path / "model.keras"
    text.write_text("not a model")
    with pytest.raises(ModelError) as info:
        if loader == "api":
            from l3_kedro import api

            api.load_audio_embedding_model(input_repr="mel256", embedding_size=512, weights=text)
        else:
            from l3_kedro.models.l3net import load_audio_embedding_model

            load_audio_embedding_model(text)
    message = str(info.value)
    assert "not found" not in message.lower()
    assert "is not a Keras model file" in message and str(text) in message


@pytest.mark.parametrize("value", [100, "big", True])
def test_a_bad_embedding_size_names_its_parameter_key(value):
    from l3_kedro.embedding.embedders import build_embedder

    spec = {"kind": "l3_random", "input_repr": "mel128", "embedding_size": value}
    with pytest.raises(ParameterError, match=r"'embed\.models\.tiny\.embedding_size'") as info:
        build_embedder("tiny", spec)
    assert repr(value) in str(info.value)


def test_skipped_clips_are_logged_under_the_dataset_name_not_the_layout(tmp_path, caplog):
    from l3_kedro.pipelines.ingest.nodes import build_clip_table

    for label in ("one", "two"):
        (tmp_path / label).mkdir()
        shutil.copy(FSDD_FILES[0], tmp_path / label / "good.wav")
    (tmp_path / "two" / "broken.wav").write_bytes(b"RIFF but not audio")
    source = {"layout": "generic", "root": str(tmp_path)}
    policy = {"on_error": "skip", "probe": "header"}
    with caplog.at_level(logging.WARNING):
        clips, skips = build_clip_table(source, policy, dataset="field_recordings")
    assert len(clips) == 2 and len(skips) == 1
    lines = [r.getMessage() for r in caplog.records if "Skipping clip" in r.getMessage()]
    assert len(lines) == 1
    assert "of field_recordings" in lines[0] and "generic" not in lines[0]
    assert "broken.wav" in lines[0]
