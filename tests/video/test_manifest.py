"""The AVC manifest: AudioSet and folder layouts, subsets, splits, skips and parameters."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from l3_kedro.errors import DatasetLayoutError, ParameterError, VideoError
from l3_kedro.video import VIDEO_MANIFEST_COLUMNS, VIDEO_SKIP_COLUMNS, build_video_manifest
from tests.conftest import EMBEDDED_RAW
from tests.video.conftest import write_video

AUDIOSET = EMBEDDED_RAW / "audioset"
GUITAR, CAR, SPEECH = "/m/0342h", "/m/0k4j", "/m/09x0r"

# (ytid, start s, end s, labels, what is on disk)
SEGMENTS = [
    ("guitarVid01", 0.0, 2.0, [GUITAR], "video"),
    ("guitarVid01", 30.0, 32.0, [GUITAR], "video"),  # a second segment of the same video
    ("carVideo001", 10.0, 12.0, [CAR], "video"),
    ("bothVideo01", 0.0, 2.0, [GUITAR, CAR], "video"),
    ("speechOnly1", 0.0, 2.0, [SPEECH], "video"),  # in no subset
    ("missingVid1", 0.0, 2.0, [GUITAR], None),  # never downloaded
    ("unknownLab1", 0.0, 2.0, ["/m/nope"], "video"),
    ("corruptVid1", 0.0, 2.0, [CAR], "text"),
    ("shortVideo1", 0.0, 2.0, [CAR], "short"),
]


def _segment_csv(path: Path, rows) -> Path:
    lines = [
        "# test segments",
        "# num_ytids=?",
        "# YTID, start_seconds, end_seconds, positive_labels",
    ]
    lines += [f'{y}, {s:.3f}, {e:.3f}, "{",".join(labels)}"' for y, s, e, labels, _ in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def audioset_tree(tmp_path_factory) -> Path:
    """An AudioSet download: two segment CSVs (one row in both) and one mp4 per segment."""
    root = tmp_path_factory.mktemp("audioset")
    tiny = write_video(root / "tiny.mp4")
    for ytid, start, end, _, kind in SEGMENTS:
        path = root / "videos" / f"{ytid}_{round(start * 1000)}_{round(end * 1000)}.mp4"
        path.parent.mkdir(exist_ok=True)
        if kind == "video":
            shutil.copy(tiny, path)
        elif kind == "text":
            path.write_text("not a video\n" * 40)
        elif kind == "short":
            write_video(path, n_frames=5)
    _segment_csv(root / "balanced.csv", SEGMENTS[:5])
    _segment_csv(root / "unbalanced.csv", SEGMENTS[4:])
    return root


def _source(root: Path, **changes) -> dict:
    source = {
        "layout": "audioset",
        "segments": [str(root / "balanced.csv"), str(root / "unbalanced.csv")],
        "video_dir": str(root / "videos"),
        "video_pattern": "{ytid}_{start_ms}_{end_ms}.mp4",
        "audio_pattern": None,
        "ontology": str(AUDIOSET / "ontology.json"),
        "subsets": {
            "music": str(AUDIOSET / "filter_music.csv"),
            "environmental": str(AUDIOSET / "filter_environmental.csv"),
        },
        "split": {"train": 0.5, "validation": 0.25, "test": 0.25, "seed": 0},
        "min_duration": 1.0,
    }
    return {**source, **changes}


def test_audioset_layout_builds_subsets_splits_and_skips(audioset_tree):
    manifest, skips = build_video_manifest(_source(audioset_tree))
    assert tuple(manifest.columns) == VIDEO_MANIFEST_COLUMNS
    assert tuple(skips.columns) == VIDEO_SKIP_COLUMNS
    by_subset = manifest.groupby("subset")["segment_id"].apply(sorted).to_dict()
    assert by_subset == {
        "environmental": ["bothVideo01_0_2000", "carVideo001_10000_12000"],
        "music": ["bothVideo01_0_2000", "guitarVid01_0_2000", "guitarVid01_30000_32000"],
    }
    assert manifest.groupby("video_id")["split"].nunique().max() == 1  # no leak across splits
    assert set(manifest["split"]) <= {"train", "validation", "test"}
    both = manifest[manifest["video_id"] == "bothVideo01"].iloc[0]
    assert both["labels"] == f"{GUITAR};{CAR}"
    assert both["audio_path"] == both["video_path"] and Path(both["video_path"]).is_absolute()
    assert (both["width"], both["height"], both["frame_rate"], both["sample_rate"]) == (
        32,
        24,
        10.0,
        16000,
    )
    reasons = dict(zip(skips["video_id"], skips["reason"], strict=True))
    assert set(reasons) == {"missingVid1", "unknownLab1", "corruptVid1", "shortVideo1"}
    assert "listed but not found" in reasons["missingVid1"]
    assert "['/m/nope'] not in the ontology" in reasons["unknownLab1"]
    assert "not a readable video file" in reasons["corruptVid1"]
    assert "shorter than min_duration" in reasons["shortVideo1"]


def test_error_policy_stops_at_bad_videos_but_not_at_missing_ones(audioset_tree):
    with pytest.raises(DatasetLayoutError, match=r"unknownLab1 .* not in the ontology"):
        build_video_manifest(_source(audioset_tree), on_error="error")
    known = _segment_csv(
        audioset_tree / "known.csv", [s for s in SEGMENTS if s[0] != "unknownLab1"]
    )
    with pytest.raises(VideoError, match=r"corruptVid1_0_2000.mp4: not a readable video file"):
        build_video_manifest(_source(audioset_tree, segments=str(known)), on_error="error")
    usable = [s for s in SEGMENTS if s[0] not in ("unknownLab1", "corruptVid1", "shortVideo1")]
    clean = _segment_csv(audioset_tree / "clean.csv", usable)
    manifest, skips = build_video_manifest(
        _source(audioset_tree, segments=str(clean)), on_error="error", probe="header"
    )
    assert skips["video_id"].tolist() == ["missingVid1"]
    assert len(manifest) == 5


def test_side_car_audio_pattern(tmp_path):
    write_video(tmp_path / "v" / "silentVideo_0_2000.mp4", sample_rate=None)
    (tmp_path / "a").mkdir()
    sf.write(tmp_path / "a" / "silentVideo_0_2000.flac", np.zeros(32000, np.float32), 16000)
    _segment_csv(tmp_path / "s.csv", [("silentVideo", 0.0, 2.0, [GUITAR], "video")])
    source = _source(
        tmp_path,
        segments=str(tmp_path / "s.csv"),
        video_dir=str(tmp_path / "v"),
        audio_dir=str(tmp_path / "a"),
        audio_pattern="{ytid}_{start_ms}_{end_ms}.flac",
    )
    manifest, skips = build_video_manifest(source)
    assert skips.empty
    assert manifest["audio_path"].iloc[0].endswith("a/silentVideo_0_2000.flac")
    assert manifest["video_path"].iloc[0].endswith("v/silentVideo_0_2000.mp4")
    with pytest.raises(DatasetLayoutError, match=r"No usable video .*no audio stream"):
        build_video_manifest({**source, "audio_pattern": None})


def test_folder_layouts(tmp_path, tiny_video):
    for subset, name in (("music", "a.mp4"), ("music", "b.webm"), ("environmental", "c.mp4")):
        (tmp_path / "root" / subset).mkdir(parents=True, exist_ok=True)
        shutil.copy(tiny_video, tmp_path / "root" / subset / name)
    (tmp_path / "root" / "music" / "notes.txt").write_text("ignored")
    manifest, skips = build_video_manifest({"layout": "folder", "root": str(tmp_path / "root")})
    assert skips.empty
    assert sorted(manifest["video_id"]) == ["environmental/c", "music/a", "music/b"]
    assert (
        set(manifest["labels"]) == {""} and (manifest["video_id"] == manifest["segment_id"]).all()
    )

    listing = tmp_path / "root" / "list.csv"
    pd.DataFrame({"path": ["music/a.mp4", "absent.mp4"], "subset": ["music", "music"]}).to_csv(
        listing, index=False
    )
    manifest, skips = build_video_manifest({"layout": "folder", "manifest": str(listing)})
    assert manifest["video_id"].tolist() == ["music/a"]
    assert skips["video_id"].tolist() == ["absent"]


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"layout": "youtube"}, "ingest.avc.layout"),
        ({"video_dirs": "x"}, "ingest.avc.video_dirs"),
        ({"video_pattern": "{ytid}_{begin}.mp4"}, "ingest.avc.video_pattern"),
        ({"split": {"train": 0.9, "validation": 0.1, "test": 0.1}}, "ingest.avc.split"),
        ({"split": {"training": 1.0}}, "ingest.avc.split"),
        ({"min_duration": -1}, "ingest.avc.min_duration"),
        ({"ontology": None}, "ingest.avc.ontology"),
        ({"subsets": {}}, "ingest.avc.subsets"),
        ({"segments": []}, "ingest.avc.segments"),
    ],
)
def test_bad_parameters_name_the_key(audioset_tree, changes, key):
    with pytest.raises(ParameterError, match=key.replace(".", r"\.")):
        build_video_manifest(_source(audioset_tree, **changes))


def test_bad_policy(audioset_tree):
    with pytest.raises(ParameterError, match=r"on_error"):
        build_video_manifest(_source(audioset_tree), on_error="ignore")


def test_every_skipped_video_gets_its_own_log_line(audioset_tree, caplog):
    with caplog.at_level(logging.WARNING, logger="l3_kedro.video.manifest"):
        _, skips = build_video_manifest(_source(audioset_tree))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Skipping video")]
    for video_id, reason in zip(skips["video_id"], skips["reason"], strict=True):
        assert any(video_id in line and reason in line for line in lines), (video_id, lines)
