"""Fidelity pins: `conf/paper`, read as `kedro run --env paper` reads it, holds the paper's values.

Every value below is a fact of the paper or of docs/reference.md (§6
"Training" and §7 "Downstream protocol"); the configuration is loaded
through the project's own loader (base merged with paper, key by key), so a
value that drifts in either file fails here.
"""

from __future__ import annotations

import pytest

from l3_kedro.avc.config import AvcTrainingConfig
from l3_kedro.evaluation import ProtocolConfig
from l3_kedro.pipelines.reporting.nodes import ReportingConfig
from l3_kedro.project.config import load_parameters


@pytest.fixture(scope="module")
def paper() -> dict:
    return load_parameters(env="paper")


def test_avc_training_follows_the_paper(paper):
    config = AvcTrainingConfig.from_parameters(paper["avc_training"]["training"])
    assert config.width == 1.0
    assert config.image_size == 224
    assert config.frame_short_side == 256  # short side resized to 256, random 224 crop
    assert config.batch_size == 64
    assert (config.epochs, config.batches_per_epoch) == (300, 4096)
    assert config.total_samples == 78_643_200  # "78.6M training samples"
    assert config.learning_rate == 1e-5
    assert config.weight_decay == 1e-5
    assert (config.beta_1, config.beta_2) == (0.9, 0.999)
    assert config.ema_momentum is None  # plain Adam
    assert config.checkpoint_every_samples == 2_621_440  # "every 2.6M samples"
    assert config.videos_per_batch == 64  # the authors' 64 active streamers


def test_avc_variants_are_the_papers_design_matrix(paper):
    variants = paper["avc_training"]["variants"]
    pairs = {(v["input_repr"], v["subset"]) for v in variants.values() if v.get("enabled", True)}
    assert pairs == {
        (r, s) for r in ("linear", "mel128", "mel256") for s in ("music", "environmental")
    }


def test_avc_corpus_is_audioset_split_80_10_10_by_video(paper):
    avc = paper["ingest"]["avc"]
    assert avc["synthetic"] is None
    assert avc["source"]["layout"] == "audioset"
    split = avc["source"]["split"]
    assert (split["train"], split["validation"], split["test"]) == (0.8, 0.1, 0.1)
    assert set(avc["source"]["subsets"]) == {"music", "environmental"}


def test_downstream_protocol_follows_the_paper(paper):
    section = paper["downstream_eval"]
    config = ProtocolConfig.from_parameters(section["protocol"])
    assert config.learning_rates == (1e-5, 1e-4, 1e-3)
    assert config.weight_decays == (1e-5, 1e-4, 1e-3)
    assert config.epochs == 50
    assert config.patience == 20
    assert config.validation_fraction == 0.1
    assert section["test_folds"]["dcase2013"] == [2]  # train on development, test on evaluation


def test_embeddings_follow_the_paper(paper):
    embed = paper["embed"]
    assert embed["hop_size"] == 0.1
    assert embed["center"] is True
    assert embed["models"]["l3_random_mel256"]["width"] == 1.0
    assert embed["trained"]["embedding_size"] == 6144
    assert embed["trained"]["checkpoints"] == "all"
    # Fig. 4: the checkpoints of the paper's best variant, M256 trained on Music
    assert embed["trained"]["checkpoint_variants"] == ["l3_mel256_music"]
    assert paper["avc_training"]["variants"]["l3_mel256_music"] == {
        "input_repr": "mel256",
        "subset": "music",
    }
    soundnet = embed["models"]["soundnet"]
    assert (soundnet["hop_size"], soundnet["center"]) == (1.0, False)  # non-overlapping frames


def test_downstream_datasets_keep_their_official_folds(paper):
    datasets = {k: v for k, v in paper["ingest"]["datasets"].items() if v.get("enabled", True)}
    assert {v["layout"] for v in datasets.values()} == {"urbansound8k", "esc50", "dcase2013"}
    for name, source in datasets.items():
        assert not source.get("refold"), f"{name}: the paper uses the predefined folds"
        assert source.get("folds") is None


def test_reporting_follows_the_paper(paper):
    config = ReportingConfig.from_parameters(paper["reporting"])
    assert config.alpha == 0.05
    assert config.metric == "clip_accuracy"
    assert config.kind_representative == "best"
    assert config.paper_table2["l3"] == {"us8k": 79.34, "esc50": 79.82, "dcase2013": 97.0}
    assert config.paper_table2["vggish"] == {"us8k": 73.43, "esc50": 73.54, "dcase2013": 93.0}
    assert config.paper_table2["soundnet"] == {"us8k": 68.80, "esc50": 47.66, "dcase2013": 76.0}
    assert config.paper_table1["mel256"] == {
        "music": {"music": 77.04, "environmental": 64.82},
        "environmental": {"music": 62.93, "environmental": 78.08},
    }
    compared = {(c.factor, c.levels) for c in config.comparisons}
    assert {
        ("input_repr", ("mel256", "linear")),
        ("subset", ("music", "environmental")),
        ("kind", ("l3", "soundnet")),
        ("kind", ("l3", "vggish")),
    } <= compared
