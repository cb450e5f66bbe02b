"""AudioSet metadata against the real ontology and the paper's subset filters."""

from __future__ import annotations

import pandas as pd
import pytest

from l3_kedro.errors import DatasetLayoutError, ParameterError
from l3_kedro.layouts.audioset import (
    SEGMENT_COLUMNS,
    LabelFilter,
    Ontology,
    OntologyClass,
    load_label_filter,
    read_segments_csv,
    write_segments_csv,
)
from l3_kedro.layouts.splits import assign_splits
from tests.conftest import EMBEDDED_RAW

AUDIOSET = EMBEDDED_RAW / "audioset"
CAR, MOTOR_VEHICLE, VEHICLE, BOAT = "/m/0k4j", "/m/012f08", "/m/07yv9", "/m/019jd"
SPEECH, MUSIC, GUITAR, ELECTRIC_GUITAR = "/m/09x0r", "/m/04rlf", "/m/0342h", "/m/02sgy"

SEGMENTS_TEXT = """\
# Segments csv created Sun Mar  5 10:54:31 2017
# num_ytids=3, num_segs=3, num_unique_labels=4, num_positive_labels=5
# YTID, start_seconds, end_seconds, positive_labels
--PJHxphWEs, 30.000, 40.000, "/m/09x0r,/t/dd00088"
-0RWZT-miFs, 420.000, 430.000, "/m/03v3yw,/m/0k4j"
-1LrH01Ei1w, 0.500, 10.500, "/m/02sgy"
"""


@pytest.fixture(scope="module")
def ontology() -> Ontology:
    return Ontology.from_json(AUDIOSET / "ontology.json")


@pytest.fixture(scope="module")
def music(ontology) -> LabelFilter:
    return load_label_filter(AUDIOSET / "filter_music.csv", ontology)


@pytest.fixture(scope="module")
def environmental(ontology) -> LabelFilter:
    return load_label_filter(AUDIOSET / "filter_environmental.csv", ontology)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# --- segment lists --------------------------------------------------------------------


def test_segments_csv_parses_audioset_format(tmp_path):
    segments = read_segments_csv(_write(tmp_path / "eval_segments.csv", SEGMENTS_TEXT))
    assert tuple(segments.columns) == SEGMENT_COLUMNS
    assert segments["ytid"].tolist() == ["--PJHxphWEs", "-0RWZT-miFs", "-1LrH01Ei1w"]
    assert segments["start_seconds"].tolist() == [30.0, 420.0, 0.5]
    assert segments["end_seconds"].dtype == float
    assert segments["labels"][0] == ("/m/09x0r", "/t/dd00088")
    assert segments["labels"][2] == ("/m/02sgy",)


def test_segments_csv_round_trip(tmp_path):
    original = read_segments_csv(_write(tmp_path / "a.csv", SEGMENTS_TEXT))
    written = write_segments_csv(original, tmp_path / "out" / "b.csv")
    assert written.read_text().splitlines()[3] == SEGMENTS_TEXT.splitlines()[3]
    pd.testing.assert_frame_equal(read_segments_csv(written), original)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ('abc, 1.000, 2.000, "/m/0k4j", extra', "expected 4 fields"),
        ('abc, one, 2.000, "/m/0k4j"', "not numbers"),
        ('abc, 5.000, 2.000, "/m/0k4j"', "start_seconds < end_seconds"),
        ("abc, 1.000, 2.000", "expected 4 fields"),
    ],
)
def test_malformed_segment_row_names_file_and_line(tmp_path, row, problem):
    path = _write(tmp_path / "bad.csv", SEGMENTS_TEXT + row + "\n")
    with pytest.raises(DatasetLayoutError, match=problem) as info:
        read_segments_csv(path)
    assert "bad.csv' line 7" in str(info.value)


def test_segments_csv_without_audioset_header_is_refused(tmp_path):
    path = _write(tmp_path / "plain.csv", "ytid,start,end,labels\nabc,0,10,/m/0k4j\n")
    with pytest.raises(DatasetLayoutError, match="not an AudioSet segment list"):
        read_segments_csv(path)
    with pytest.raises(DatasetLayoutError, match="not found"):
        read_segments_csv(tmp_path / "absent.csv")


# --- ontology -------------------------------------------------------------------------


def test_ontology_lookups(ontology):
    assert len(ontology.classes) == 632
    assert ontology.by_name("car").id == CAR  # names are case-insensitive, as in the paper
    assert ontology.by_id(VEHICLE).name == "Vehicle"
    assert {CAR, MOTOR_VEHICLE, BOAT, VEHICLE} <= ontology.subtree(VEHICLE)
    assert SPEECH not in ontology.subtree(VEHICLE)
    assert ontology.subtree(CAR) >= {CAR}
    assert ontology.unknown_ids([CAR, "/m/nope", SPEECH]) == ("/m/nope",)


def test_ontology_errors_name_the_class(ontology):
    with pytest.raises(DatasetLayoutError, match=r"no class named 'Vehicles'.*'Vehicle'"):
        ontology.by_name("Vehicles")
    with pytest.raises(DatasetLayoutError, match="no class with id '/m/nope'"):
        ontology.subtree("/m/nope")


def test_subtree_survives_a_cycle():
    cyclic = Ontology(
        classes={
            "a": OntologyClass("a", "A", child_ids=("b",)),
            "b": OntologyClass("b", "B", child_ids=("a", "c")),
            "c": OntologyClass("c", "C"),
        }
    )
    assert cyclic.subtree("a") == {"a", "b", "c"}


def test_ontology_file_errors(tmp_path):
    with pytest.raises(DatasetLayoutError, match="not valid JSON"):
        Ontology.from_json(_write(tmp_path / "o.json", "{"))
    dangling = '[{"id": "a", "name": "A", "child_ids": ["zz"]}]'
    with pytest.raises(DatasetLayoutError, match=r"child ids \['zz'\]"):
        Ontology.from_json(_write(tmp_path / "d.json", dangling))


# --- subset filters -------------------------------------------------------------------


def test_child_label_is_accepted_only_through_include_children(environmental, tmp_path, ontology):
    # 'Car' is not in the environmental filter; it sits under Vehicle (include_children true).
    assert "Car" not in (AUDIOSET / "filter_environmental.csv").read_text()
    assert environmental.accepts([CAR])
    assert environmental.accepts([BOAT])
    flat = (AUDIOSET / "filter_environmental.csv").read_text().replace(",true,", ",false,")
    without_children = load_label_filter(_write(tmp_path / "flat.csv", flat), ontology)
    assert not without_children.accepts([CAR])
    assert without_children.accepts([VEHICLE])


def test_real_filters_split_music_from_environment(music, environmental):
    assert music.accepts([GUITAR]) and music.accepts([SPEECH, ELECTRIC_GUITAR])
    assert not environmental.accepts([GUITAR])
    assert not music.accepts([MUSIC])  # the root class alone is in no filter
    assert not music.accepts([SPEECH]) and not environmental.accepts([SPEECH])
    assert music.accepts([GUITAR, CAR]) and environmental.accepts([GUITAR, CAR])


def test_a_rejected_label_wins_over_any_accepted_one(tmp_path, ontology):
    text = (
        "filter_type,accept_reject,include_children,string\n"
        "label,accept,true,Vehicle\n"
        "label,reject,true,Motor vehicle (road)\n"
        "ytid,reject,false,banned-ytid\n"
    )
    rule = load_label_filter(_write(tmp_path / "f.csv", text), ontology)
    assert rule.accepts([BOAT])
    assert not rule.accepts([CAR])  # a child of the rejected class
    assert not rule.accepts([BOAT, CAR])  # reject wins, whatever the order
    assert not rule.accepts([BOAT], ytid="banned-ytid")
    assert not rule.accepts([SPEECH])  # matches no accept rule


def test_a_pure_reject_list_keeps_everything_else(tmp_path, ontology):
    text = "filter_type,accept_reject,include_children,string\nlabel,reject,false,Car\n"
    rule = load_label_filter(_write(tmp_path / "f.csv", text), ontology)
    assert rule.accepts([SPEECH]) and not rule.accepts([CAR]) and rule.accepts([MOTOR_VEHICLE])


def test_old_filter_format_without_include_children(tmp_path, ontology):
    rule = load_label_filter(
        _write(tmp_path / "f.csv", "filter_type,accept_reject,string\nlabel,accept,Guitar\n"),
        ontology,
    )
    assert rule.accepts([GUITAR]) and not rule.accepts([ELECTRIC_GUITAR])


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("label,accept,true,Vehicles", "no class named 'Vehicles'"),
        ("label,maybe,true,Vehicle", "accept_reject must be one of"),
        ("label,accept,yes,Vehicle", "include_children must be one of"),
        ("tag,accept,true,Vehicle", "filter_type must be one of"),
    ],
)
def test_bad_filter_row_names_file_and_line(tmp_path, ontology, row, problem):
    path = _write(tmp_path / "f.csv", f"filter_type,accept_reject,include_children,string\n{row}\n")
    with pytest.raises(DatasetLayoutError, match=problem) as info:
        load_label_filter(path, ontology)
    assert "f.csv' line 2" in str(info.value)


# --- splits ---------------------------------------------------------------------------


def test_splits_are_by_video_and_deterministic():
    ids = [f"video{i % 50}" for i in range(200)]  # four segments per video
    splits = assign_splits(ids, seed=3)
    assert splits.groupby(pd.Series(ids)).nunique().max() == 1  # no video in two splits
    pd.testing.assert_series_equal(splits, assign_splits(ids, seed=3))
    assert not splits.equals(assign_splits(ids, seed=4))


def test_adding_videos_moves_only_those_near_a_cut():
    before = assign_splits([f"yt{i}" for i in range(1000)])
    after = assign_splits([f"yt{i}" for i in range(1010)])
    moved = (after.iloc[:1000] != before).sum()
    assert 0 < moved <= 20


def test_split_shares_are_exact_within_each_group():
    ids = [f"yt{i}" for i in range(96)]
    groups = ["music"] * 48 + ["environmental"] * 48
    splits = assign_splits(ids, groups=groups)
    counts = splits.groupby(pd.Series(groups)).value_counts().unstack()
    assert counts.loc["music"].to_dict() == {"test": 5, "train": 38, "validation": 5}
    assert counts.loc["environmental"].to_dict() == {"test": 5, "train": 38, "validation": 5}
    shuffled = assign_splits(ids[::-1], groups=groups[::-1])
    assert shuffled.tolist() == splits.tolist()[::-1]  # input order does not matter


def test_split_fractions_hold_exactly():
    splits = assign_splits([f"yt{i}" for i in range(20000)], fractions=(0.6, 0.3, 0.1))
    assert splits.value_counts().to_dict() == {"train": 12000, "validation": 6000, "test": 2000}


def test_split_keeps_a_series_index():
    ids = pd.Series(["a", "b"], index=[10, 20])
    assert assign_splits(ids).index.tolist() == [10, 20]


@pytest.mark.parametrize(
    ("fractions", "seed"),
    [((0.8, 0.1), 0), ((0.8, 0.1, 0.2), 0), ((1.1, -0.1, 0.0), 0), ((0.8, 0.1, 0.1), True)],
)
def test_bad_split_parameters(fractions, seed):
    with pytest.raises(ParameterError):
        assign_splits(["a"], fractions=fractions, seed=seed)
