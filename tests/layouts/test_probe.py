"""Probing clips: every bad-input case names the file; the policy stops or skips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from l3_kedro.errors import AudioError, ParameterError
from l3_kedro.layouts.probe import (
    CLIP_TABLE_COLUMNS,
    SKIP_REPORT_COLUMNS,
    IngestPolicy,
    probe_clips,
)


def _bad_files(tmp_path, write_clip) -> dict[str, object]:
    """One file per bad-input case, keyed by the problem the error must mention."""
    good = write_clip(tmp_path / "good.flac")
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(good.read_bytes()[:200])
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("these are meeting notes, not audio\n" * 20)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF" + np.random.default_rng(0).bytes(2000))
    zero = tmp_path / "zero_length.wav"
    sf.write(zero, np.zeros(0, dtype="float32"), 16000)
    nan = tmp_path / "nan.wav"
    sf.write(nan, np.array([0.1, np.nan, 0.2] * 1000, dtype="float32"), 16000, subtype="FLOAT")
    inf = tmp_path / "inf.wav"
    sf.write(inf, np.array([0.1, np.inf, 0.2] * 1000, dtype="float32"), 16000, subtype="FLOAT")
    return {
        "good": good,
        "absent": tmp_path / "absent.wav",
        "truncated": truncated,
        "empty": empty,
        "non-audio": text,
        "corrupt": corrupt,
        "zero-length": zero,
        "nan": nan,
        "inf": inf,
    }


def _manifest(files: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "clip_id": list(files),
            "path": [str(p) for p in files.values()],
            "label": ["dog_bark"] * len(files),
            "fold": [1] * len(files),
        }
    )


@pytest.mark.parametrize(
    "case", ["absent", "truncated", "empty", "non-audio", "corrupt", "zero-length", "nan", "inf"]
)
def test_each_bad_clip_is_an_error_naming_its_file(tmp_path, write_clip, case):
    files = _bad_files(tmp_path, write_clip)
    manifest = _manifest({case: files[case]})
    with pytest.raises(AudioError) as info:
        probe_clips(manifest, policy=IngestPolicy(on_error="error"))
    assert files[case].name in str(info.value)


def test_skip_policy_keeps_good_clips_and_reports_every_bad_one(tmp_path, write_clip):
    files = _bad_files(tmp_path, write_clip)
    clips, skips = probe_clips(_manifest(files), policy=IngestPolicy(on_error="skip"))
    assert list(clips.columns) == list(CLIP_TABLE_COLUMNS)
    assert list(skips.columns) == list(SKIP_REPORT_COLUMNS)
    assert clips["clip_id"].tolist() == ["good"]
    assert clips.loc[0, "sample_rate"] == 22050
    assert clips.loc[0, "duration_s"] == pytest.approx(0.25, abs=1e-3)
    assert sorted(skips["clip_id"]) == sorted(set(files) - {"good"})
    for row in skips.itertuples():
        assert str(files[row.clip_id].name) in row.reason


def test_header_probe_is_lighter_but_still_catches_unreadable_files(tmp_path, write_clip):
    files = _bad_files(tmp_path, write_clip)
    manifest = _manifest({k: files[k] for k in ("good", "absent", "non-audio", "empty")})
    clips, skips = probe_clips(manifest, policy=IngestPolicy(probe="header"))
    assert clips["clip_id"].tolist() == ["good"]
    assert len(skips) == 3


def test_label_index_numbers_sorted_labels_when_the_dataset_has_none(tmp_path, write_clip):
    files = {n: write_clip(tmp_path / f"{n}.wav") for n in ("x", "y", "z")}
    manifest = _manifest(files).assign(label=["siren", "dog", "siren"])
    clips, _ = probe_clips(manifest, policy=IngestPolicy())
    assert clips.set_index("clip_id")["label_index"].to_dict() == {"x": 1, "y": 0, "z": 1}


def test_policy_values_are_checked():
    with pytest.raises(ParameterError, match=r"ingest\.policy\.on_error"):
        IngestPolicy(on_error="ignore")
    with pytest.raises(ParameterError, match=r"ingest\.policy\.probe"):
        IngestPolicy(probe="full")
