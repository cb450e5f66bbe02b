"""The synthetic AVC corpus: layout, decoding, determinism, subsets, association, reuse."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from l3_kedro.audio import load_audio
from l3_kedro.errors import ParameterError
from l3_kedro.video import synthetic
from l3_kedro.video.synthetic import SUBSETS, SYNTHETIC_CLASSES, generate_synthetic_corpus
from l3_kedro.video.synthetic_classes import LARGE, SMALL
from l3_kedro.video.synthetic_params import CorpusParameters
from l3_kedro.video.synthetic_render import plan_video, render_video
from tests.conftest import EMBEDDED_RAW

AUDIOSET = EMBEDDED_RAW / "audioset"
TINY = {
    "n_videos_per_subset": 2,
    "duration_s": 2.0,
    "frame_rate": 8.0,
    "image_size": 64,
    "sample_rate": 16000,
}
ROW = re.compile(
    r'^[A-Za-z0-9_-]{11}, \d+\.\d{3}, \d+\.\d{3}, "(/[mt]/[0-9a-z_]+)(,/[mt]/[0-9a-z_]+)*"$'
)


def segment_rows(segments: Path) -> list[tuple[str, float, float, list[str]]]:
    """(ytid, start_s, end_s, labels) of each row of an AudioSet segment list."""
    lines = segments.read_text().splitlines()
    rows = csv.reader(lines[3:], skipinitialspace=True)
    return [(y, float(s), float(e), labels.split(",")) for y, s, e, labels in rows]


def video_path(root: Path, ytid: str, start_s: float, end_s: float) -> Path:
    return root / "videos" / f"{ytid}_{round(start_s * 1000)}_{round(end_s * 1000)}.mp4"


def decode(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(mono audio, RGB frames) of an mp4."""
    with av.open(str(path)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    return load_audio(path)[0], frames


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A tiny corpus: 2 videos per subset, 2 s, 8 fps, 64 px, 16 kHz, seed 0."""
    return generate_synthetic_corpus(tmp_path_factory.mktemp("synthetic") / "avc", **TINY).parent


def test_layout_and_audioset_segment_list(corpus):
    lines = (corpus / "segments.csv").read_text().splitlines()
    assert all(line.startswith("#") for line in lines[:3])
    assert lines[2] == "# YTID, start_seconds, end_seconds, positive_labels"
    assert len(lines) == 3 + 2 * TINY["n_videos_per_subset"]
    assert all(ROW.match(line) for line in lines[3:]), lines[3:]
    rows = segment_rows(corpus / "segments.csv")
    assert len({ytid for ytid, *_ in rows}) == len(rows)
    assert all(end - start == TINY["duration_s"] for _, start, end, _ in rows)
    assert sorted(p.name for p in (corpus / "videos").iterdir()) == sorted(
        video_path(corpus, y, s, e).name for y, s, e, _ in rows
    )
    assert "SYNTHETIC" in (corpus / "README.txt").read_text()
    stamp = json.loads((corpus / "corpus.json").read_text())
    assert stamp["version"] == synthetic.CORPUS_VERSION
    assert stamp["parameters"] == {
        **TINY,
        "seed": 0,
        "two_sources_p": 0.0,
        "silent_stretch_p": 0.0,
        "instruments": "procedural",
        "drawn_classes": 0,
    }
    assert not list(corpus.parent.glob(".*"))  # no staging folder left behind


def test_videos_decode_as_h264_and_aac(corpus):
    for ytid, start, end, _ in segment_rows(corpus / "segments.csv"):
        path = video_path(corpus, ytid, start, end)
        with av.open(str(path)) as container:
            video, sound = container.streams.video[0], container.streams.audio[0]
            assert (video.codec_context.name, video.codec_context.pix_fmt) == ("h264", "yuv420p")
            assert (video.width, video.height) == (64, 64)
            assert float(video.average_rate) == TINY["frame_rate"]
            assert (sound.codec_context.name, sound.rate, sound.channels) == ("aac", 16000, 1)
        audio, frames = decode(path)
        assert frames.shape == (16, 64, 64, 3)
        assert len(audio) == pytest.approx(2.0 * 16000, abs=1024)
        assert np.sqrt(np.mean(audio**2)) > 0.01 and np.abs(audio).max() <= 1.0


def test_same_seed_same_corpus_other_seed_other_corpus(corpus, tmp_path):
    again = generate_synthetic_corpus(tmp_path / "again", **TINY).parent
    other = generate_synthetic_corpus(tmp_path / "other", **TINY, seed=1).parent
    assert (again / "segments.csv").read_bytes() == (corpus / "segments.csv").read_bytes()
    assert (other / "segments.csv").read_bytes() != (corpus / "segments.csv").read_bytes()
    for ytid, start, end, _ in segment_rows(corpus / "segments.csv"):
        first, second = video_path(corpus, ytid, start, end), video_path(again, ytid, start, end)
        assert first.read_bytes() == second.read_bytes()
        audio, frames = decode(first)
        repeat, repeat_frames = decode(second)
        np.testing.assert_array_equal(audio, repeat)
        np.testing.assert_array_equal(frames, repeat_frames)


def test_first_videos_do_not_depend_on_the_corpus_size():
    small, large = (CorpusParameters(n, 2.0, 8.0, 64, 16000, 3) for n in (1, 5))
    assert plan_video("music", 0, small) == plan_video("music", 0, large)


def _subtree(ids: set[str], by_id: dict[str, dict]) -> set[str]:
    todo, seen = list(ids), set()
    while todo:
        if (node := todo.pop()) not in seen:
            seen.add(node)
            todo.extend(by_id[node]["child_ids"])
    return seen


def read_filter(name: str) -> tuple[set[str], set[str]]:
    """(accepted ids, rejected ids) of one of the paper's subset filters."""
    ontology = json.loads((AUDIOSET / "ontology.json").read_text())
    by_name, by_id = {c["name"]: c for c in ontology}, {c["id"]: c for c in ontology}
    accepted, rejected = set(), set()
    with open(AUDIOSET / f"filter_{name}.csv", newline="") as file:
        for row in csv.DictReader(file):
            assert row["filter_type"] == "label"
            ids = {by_name[row["string"]]["id"]}
            if row["include_children"] == "true":
                ids = _subtree(ids, by_id)
            (accepted if row["accept_reject"] == "accept" else rejected).update(ids)
    return accepted, rejected


def passes(labels: list[str] | tuple[str, ...], rule: tuple[set[str], set[str]]) -> bool:
    accepted, rejected = rule
    return any(label in accepted for label in labels) and not set(labels) & rejected


def test_classes_are_real_ontology_classes_in_their_own_subset_only(corpus):
    ontology = {c["id"]: c["name"] for c in json.loads((AUDIOSET / "ontology.json").read_text())}
    rules = {subset: read_filter(subset) for subset in SUBSETS}
    for subset in SUBSETS:
        other = SUBSETS[1 - SUBSETS.index(subset)]
        assert len(SYNTHETIC_CLASSES[subset]) >= 8
        for name, cls in SYNTHETIC_CLASSES[subset].items():
            assert ontology[cls.ontology_id] == name
            assert passes([cls.ontology_id], rules[subset]), name
            assert not passes([cls.ontology_id], rules[other]), name
    rows = segment_rows(corpus / "segments.csv")
    subsets = [s for s in SUBSETS for _ in range(TINY["n_videos_per_subset"])]
    for (*_, labels), subset in zip(rows, subsets, strict=True):
        other = SUBSETS[1 - SUBSETS.index(subset)]
        assert passes(labels, rules[subset]) and not passes(labels, rules[other]), labels


def _detected(frames: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """Per frame, whether at least 4 pixels lie close to ``colour``."""
    distance = np.linalg.norm(frames.astype(float) - np.asarray(colour, float), axis=-1)
    return (distance < 60).sum(axis=(1, 2)) >= 4


@pytest.mark.parametrize("subset", SUBSETS)
def test_objects_are_drawn_exactly_while_their_sources_sound(subset):
    params = CorpusParameters(1, 8.0, 8.0, 64, 16000, 0, two_sources_p=1.0, silent_stretch_p=0.6)

    def sounding_s(plan):
        return sum(b - a for intervals in plan.intervals for a, b in intervals)

    plan = next(
        p
        for i in range(50)
        if len((p := plan_video(subset, i, params)).classes) == 2 and sounding_s(p) < 7.0
    )
    stems, frames = render_video(plan, params)
    assert stems.shape == (2, 8 * 16000) and frames.shape == (64, 64, 64, 3)
    energy = np.concatenate([np.zeros((2, 1)), np.cumsum(stems**2, axis=1)], axis=1)
    centres = np.arange(64) * 2000  # samples at each frame time

    def rms(half_width: int, of: np.ndarray = energy) -> np.ndarray:
        lo, hi = np.clip(centres - half_width, 0, None), np.clip(centres + half_width, None, 128000)
        return np.sqrt((of[..., hi] - of[..., lo]) / (hi - lo))

    shown = []
    for j, name in enumerate(plan.classes):
        visible = _detected(frames, SYNTHETIC_CLASSES[subset][name].visual.colour)
        drawn = np.any(
            [(centres >= a * 16000) & (centres < b * 16000) for a, b in plan.intervals[j]], 0
        )
        np.testing.assert_array_equal(visible, drawn)
        shown.append(visible)
        floor = 1e-3 * rms(8000)[j].max()
        assert np.all(rms(8000)[j][visible] > floor)  # heard within the second around the frame
        assert np.mean(rms(160)[j][~visible] < floor) >= 0.9  # silent at the frame itself
    assert np.sum(shown, axis=0).max() == 1  # one source at a time
    empty = ~np.any(shown, axis=0)
    assert 0 < empty.mean() < 0.6  # silent stretches show no object ...
    mix = np.concatenate([[0.0], np.cumsum(stems.sum(axis=0) ** 2)])
    assert np.mean(rms(160, mix)[empty] < 1e-4) >= 0.9  # ... and are silent


@pytest.mark.parametrize("subset", SUBSETS)
def test_by_default_one_source_sounds_throughout_with_its_object_in_view(subset):
    params = CorpusParameters(1, 8.0, 8.0, 64, 16000, 0)
    for index in range(6):
        plan = plan_video(subset, index, params)
        assert len(plan.classes) == 1 and plan.intervals == (((0.0, 8.0),),)
    stems, frames = render_video(plan, params)
    assert _detected(frames, SYNTHETIC_CLASSES[subset][plan.classes[0]].visual.colour).all()
    second = stems[0][: 16000 * 8].reshape(8, 16000)
    assert np.all(np.sqrt(np.mean(second**2, axis=1)) > 1e-3)


def _impulsive(sound) -> bool:
    """Struck or plucked notes, or a texture of events or deep amplitude modulation."""
    if hasattr(sound, "decay_s"):
        return sound.decay_s is not None
    return sound.events is not None or sound.am[1] >= 0.5


def test_objects_follow_texture_and_register():
    for cls in (c for subset in SUBSETS for c in SYNTHETIC_CLASSES[subset].values()):
        warm = int(np.argmax(cls.visual.colour)) == 0  # red is the strongest channel
        angular = cls.visual.shape not in {"disc", "ring", "dome", "ellipse"}
        assert warm == angular == _impulsive(cls.sound), cls
    for subset in SUBSETS:
        looks = [(c.visual.colour, c.visual.size) for c in SYNTHETIC_CLASSES[subset].values()]
        assert len(set(looks)) == len(looks)  # colour and size tell classes apart
    params = CorpusParameters(1, 4.0, 8.0, 64, 48000, 0)
    music = SYNTHETIC_CLASSES["music"].values()
    low = [c.sound.midi_range[1] for c in music if c.visual.size == LARGE]
    high = [c.sound.midi_range[0] for c in music if c.visual.size == SMALL]
    assert len(low) == len(high) == 4 and max(low) < min(high)
    plan = plan_video("environmental", 0, params)
    centroid = {}
    for name, cls in SYNTHETIC_CLASSES["environmental"].items():
        single = replace(plan, classes=(name,), intervals=(((0.0, 4.0),),), gains=(1.0,))
        power = np.abs(np.fft.rfft(render_video(single, params)[0][0])) ** 2
        freqs = np.fft.rfftfreq(4 * 48000, 1 / 48000)
        centroid[cls.visual.size] = [
            *centroid.get(cls.visual.size, []),
            power @ freqs / power.sum(),
        ]
    assert max(centroid[LARGE]) < min(centroid[SMALL]), centroid


def test_environmental_objects_grow_with_loudness():
    params = CorpusParameters(1, 6.0, 8.0, 64, 16000, 0)
    plan = next(
        p
        for i in range(50)
        if (p := plan_video("environmental", i, params)).classes[0] == "Gunshot, gunfire"
    )
    stems, frames = render_video(plan, params)
    colour = SYNTHETIC_CLASSES["environmental"]["Gunshot, gunfire"].visual.colour
    area = (np.linalg.norm(frames.astype(float) - colour, axis=-1) < 60).sum(axis=(1, 2))
    windows = np.pad(stems[0], 1000)[np.arange(48)[:, None] * 2000 + np.arange(2000)]
    loudness = np.sqrt(np.mean(windows**2, axis=1))
    shown = area > 0
    assert np.corrcoef(area[shown], loudness[shown])[0, 1] > 0.6


def test_decoded_corpus_matches_its_plan(corpus):
    params = CorpusParameters(**TINY, seed=0)
    for subset in SUBSETS:
        for index in range(TINY["n_videos_per_subset"]):
            plan = plan_video(subset, index, params)
            stems, frames = render_video(plan, params)
            path = corpus / "videos" / f"{plan.file_stem(2.0)}.mp4"
            audio, decoded = decode(path)
            assert np.median(np.abs(decoded.astype(float) - frames)) <= 2.0  # h264 crf 18
            for name in plan.classes:
                colour = SYNTHETIC_CLASSES[subset][name].visual.colour
                np.testing.assert_array_equal(_detected(decoded, colour), _detected(frames, colour))
            mix = stems.sum(axis=0)
            n = min(len(audio), len(mix)) // 800 * 800
            envelope = [np.sqrt(np.mean(x[:n].reshape(-1, 800) ** 2, axis=1)) for x in (audio, mix)]
            assert np.corrcoef(*envelope)[0, 1] > 0.95


def test_reused_when_parameters_match_regenerated_otherwise(tmp_path):
    root = tmp_path / "avc"
    segments = generate_synthetic_corpus(root, **TINY)
    stamp = root / "corpus.json"
    first = stamp.stat().st_mtime_ns
    assert generate_synthetic_corpus(root, **TINY) == segments
    assert stamp.stat().st_mtime_ns == first  # reused

    generate_synthetic_corpus(root, **{**TINY, "frame_rate": 4.0})
    assert json.loads(stamp.read_text())["parameters"]["frame_rate"] == 4.0
    with av.open(str(next((root / "videos").iterdir()))) as container:
        assert float(container.streams.video[0].average_rate) == 4.0

    second = stamp.stat().st_mtime_ns
    next((root / "videos").iterdir()).unlink()  # an incomplete corpus is regenerated
    generate_synthetic_corpus(root, **{**TINY, "frame_rate": 4.0})
    assert stamp.stat().st_mtime_ns != second and len(list((root / "videos").iterdir())) == 4

    third = stamp.stat().st_mtime_ns
    generate_synthetic_corpus(root, **{**TINY, "frame_rate": 4.0}, overwrite=True)
    assert stamp.stat().st_mtime_ns != third


def test_a_crash_leaves_no_half_corpus(tmp_path, monkeypatch):
    root = tmp_path / "avc"
    generate_synthetic_corpus(root, **TINY)
    before = (root / "segments.csv").read_bytes()
    calls = []

    def fail_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")

    monkeypatch.setattr(synthetic, "write_mp4", fail_on_second)
    with pytest.raises(RuntimeError, match="disk full"):
        generate_synthetic_corpus(root, **TINY, seed=5)
    assert (root / "segments.csv").read_bytes() == before  # the old corpus is intact
    assert json.loads((root / "corpus.json").read_text())["parameters"]["seed"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["avc"]
    calls.clear()
    with pytest.raises(RuntimeError, match="disk full"):
        generate_synthetic_corpus(tmp_path / "new", **TINY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["avc"]


def test_refuses_to_replace_a_foreign_folder(tmp_path):
    (tmp_path / "data" / "notes.txt").parent.mkdir()
    (tmp_path / "data" / "notes.txt").write_text("keep me")
    with pytest.raises(ParameterError, match=r"ingest\.avc\.synthetic\.root.*not empty"):
        generate_synthetic_corpus(tmp_path / "data", **TINY)
    assert (tmp_path / "data" / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n_videos_per_subset", 0),
        ("n_videos_per_subset", 2.0),
        ("duration_s", 0.5),
        ("duration_s", float("nan")),
        ("frame_rate", 0),
        ("image_size", 63),
        ("image_size", 16),
        ("sample_rate", 44000),
        ("seed", -1),
        ("seed", True),
        ("overwrite", "yes"),
        ("instruments", "fluidsynth"),
        ("drawn_classes", 49),
        ("drawn_classes", -1),
        ("drawn_classes", 2.0),
    ],
)
def test_invalid_parameters_are_named(tmp_path, name, value):
    with pytest.raises(ParameterError, match=rf"'ingest\.avc\.synthetic\.{name}'"):
        generate_synthetic_corpus(tmp_path / "avc", **{**TINY, name: value})
    assert not (tmp_path / "avc").exists()
