"""Every dataset layout reader, on official layouts built from real audio."""

from __future__ import annotations

import pandas as pd
import pytest

from l3_kedro.errors import DatasetLayoutError, ParameterError
from l3_kedro.layouts import MANIFEST_COLUMNS, read_manifest
from l3_kedro.layouts.dcase2013 import read_dcase2013
from l3_kedro.layouts.esc50 import read_esc50
from l3_kedro.layouts.fsdd import read_fsdd
from l3_kedro.layouts.generic import read_generic
from l3_kedro.layouts.urbansound8k import read_urbansound8k


def test_us8k_resolves_listed_wav_to_present_flac(us8k_root):
    manifest = read_urbansound8k(root=us8k_root)
    assert list(manifest.columns) == [*MANIFEST_COLUMNS, "label_index"]
    assert len(manifest) == 9
    assert all(p.endswith(".flac") for p in manifest["path"])
    assert manifest.set_index("label")["label_index"].to_dict() == {
        "air_conditioner": 0,
        "dog_bark": 3,
        "siren": 8,
    }
    # the source recording is the fsID: 1001 for every slice of fold 1, ...
    assert (manifest["source_id"] == (1000 + manifest["fold"]).astype(str)).all()


def test_us8k_any_subset_of_folds(us8k_root):
    manifest = read_urbansound8k(root=us8k_root, folds=[1, 3])
    assert sorted(manifest["fold"].unique()) == [1, 3]
    with pytest.raises(ParameterError, match=r"fold\(s\) \[7\]"):
        read_urbansound8k(root=us8k_root, folds=[7])


def test_us8k_missing_column_names_the_file(us8k_root):
    csv = us8k_root / "metadata" / "UrbanSound8K.csv"
    pd.read_csv(csv).drop(columns="classID").to_csv(csv, index=False)
    with pytest.raises(DatasetLayoutError, match=r"UrbanSound8K\.csv.*classID"):
        read_urbansound8k(root=us8k_root)


def test_us8k_missing_root_names_the_parameter(tmp_path):
    with pytest.raises(DatasetLayoutError, match="'root'"):
        read_urbansound8k(root=tmp_path / "nowhere")


def test_esc50_five_folds_and_esc10(esc50_root):
    manifest = read_esc50(root=esc50_root)
    assert sorted(manifest["fold"].unique()) == [1, 2, 3, 4, 5]
    assert set(manifest["label_index"]) == {0, 5}
    assert set(manifest["source_id"]) == {"100", "105"}  # src_file
    esc10 = read_esc50(root=esc50_root, esc10_only=True)
    assert set(esc10["label"]) == {"dog"}
    assert len(esc10) == 5


def test_dcase2013_development_and_evaluation_are_folds_1_and_2(dcase2013_dirs):
    dev, evaluation = dcase2013_dirs
    manifest = read_dcase2013(development_dir=dev, evaluation_dir=evaluation)
    assert manifest.groupby("fold").size().to_dict() == {1: 6, 2: 6}
    assert set(manifest["label"]) == {"bus", "park", "tubestation"}
    assert manifest["clip_id"].is_unique
    assert set(manifest.loc[manifest["label"] == "tubestation", "label_index"]) == {9}
    assert (manifest["source_id"] == manifest["clip_id"]).all()  # each file its own source


def test_dcase2013_unknown_scene_is_an_error(dcase2013_dirs, write_clip):
    dev, _ = dcase2013_dirs
    write_clip(dev / "spaceship01.wav")
    with pytest.raises(DatasetLayoutError, match="spaceship"):
        read_dcase2013(development_dir=dev)


def test_fsdd_index_rule(fsdd_root):
    manifest = read_fsdd(root=fsdd_root)
    assert manifest.groupby("fold").size().to_dict() == {1: 30, 2: 30}
    take = manifest["clip_id"].str.split("_").str[2].astype(int)
    assert ((take < 5) == (manifest["fold"] == 1)).all()
    assert manifest["label_index"].tolist() == manifest["label"].astype(int).tolist()
    assert (manifest["source_id"] == manifest["clip_id"].str.split("_").str[1]).all()  # speaker


def test_fsdd_speaker_rule(fsdd_root):
    manifest = read_fsdd(root=fsdd_root, fold_rule="speaker")
    speakers = manifest["clip_id"].str.split("_").str[1]
    assert dict(zip(speakers, manifest["fold"], strict=True)) == {"george": 1, "theo": 2}


def test_fsdd_bad_file_name_and_bad_rule(fsdd_root, write_clip):
    with pytest.raises(ParameterError, match="fold_rule"):
        read_fsdd(root=fsdd_root, fold_rule="random")
    write_clip(fsdd_root / "recordings" / "hello.wav")
    with pytest.raises(DatasetLayoutError, match=r"hello\.wav"):
        read_fsdd(root=fsdd_root)


def test_generic_manifest_with_and_without_folds(tmp_path, write_clip):
    for i in range(6):
        write_clip(tmp_path / "clips" / f"a{i}.wav")
        write_clip(tmp_path / "clips" / f"b{i}.wav")
    table = pd.DataFrame(
        {
            "path": [f"clips/{c}{i}.wav" for c in "ab" for i in range(6)],
            "label": [c for c in "ab" for _ in range(6)],
        }
    )
    table.to_csv(tmp_path / "manifest.csv", index=False)
    dealt = read_generic(manifest=tmp_path / "manifest.csv", n_folds=3)
    assert dealt.groupby(["fold", "label"]).size().tolist() == [2] * 6
    table.assign(fold=[1, 2] * 6).to_csv(tmp_path / "manifest.csv", index=False)
    given = read_generic(manifest=tmp_path / "manifest.csv")
    assert given.groupby("fold").size().to_dict() == {1: 6, 2: 6}
    assert all(p.startswith(str(tmp_path)) for p in given["path"])
    assert (given["source_id"] == given["clip_id"]).all()  # no source column: each clip


def test_generic_manifest_sources_are_never_split_between_dealt_folds(tmp_path, write_clip):
    rows = []
    for label in "ab":
        for i in range(12):
            write_clip(tmp_path / f"{label}{i}.wav")
            source = f"{label}-rec{i // 3}" if i % 4 else None  # some rows without a source
            rows.append({"path": f"{label}{i}.wav", "label": label, "source_id": source})
    pd.DataFrame(rows).to_csv(tmp_path / "manifest.csv", index=False)
    dealt = read_generic(manifest=tmp_path / "manifest.csv", n_folds=3)
    assert (dealt.groupby("source_id")["fold"].nunique() == 1).all()
    unnamed = dealt["clip_id"].isin(["a0", "a4", "a8", "b0", "b4", "b8"])
    assert (dealt.loc[unnamed, "source_id"] == dealt.loc[unnamed, "clip_id"]).all()
    assert sorted(dealt["fold"].unique()) == [1, 2, 3]


def test_generic_folder_per_class(tmp_path, write_clip):
    for label in ("rain", "wind"):
        for i in range(4):
            write_clip(tmp_path / label / f"{i}.flac")
    manifest = read_generic(root=tmp_path, n_folds=2)
    assert manifest.groupby(["label", "fold"]).size().tolist() == [2, 2, 2, 2]
    assert set(manifest["clip_id"]) >= {"rain/0", "wind/3"}


def test_generic_needs_exactly_one_source(tmp_path):
    with pytest.raises(ParameterError, match="exactly one"):
        read_generic()
    with pytest.raises(DatasetLayoutError, match="No audio files"):
        read_generic(root=tmp_path)


def test_read_manifest_dispatch_and_errors(fsdd_root):
    assert len(read_manifest("fsdd", root=fsdd_root)) == 60
    with pytest.raises(ParameterError, match="Unknown dataset layout 'nsynth'"):
        read_manifest("nsynth", root=fsdd_root)
    with pytest.raises(ParameterError, match="Bad options"):
        read_manifest("fsdd", root=fsdd_root, colour="blue")
