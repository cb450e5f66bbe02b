"""Pipeline shapes follow the run's environment; environments merge key by key."""

from __future__ import annotations

import pytest

from l3_kedro.errors import ParameterError
from l3_kedro.pipelines.embed.pipeline import create_pipeline as create_embed
from l3_kedro.pipelines.ingest.pipeline import create_pipeline as create_ingest
from l3_kedro.project.config import (
    active_env,
    configured_names,
    load_parameters,
    set_active_env,
)


@pytest.fixture
def paper_env():
    set_active_env("paper")
    yield
    set_active_env(None)


def test_paper_env_ingests_the_papers_datasets(paper_env):
    assert active_env() == "paper"
    outputs = create_ingest().outputs()
    assert {"us8k.clips", "esc50.clips", "dcase2013.clips"} <= outputs
    assert "fsdd.clips" not in outputs
    assert "esc50.l3_random_mel256.embeddings" in create_embed().all_outputs()


def test_paper_env_overrides_key_by_key():
    params = load_parameters(env="paper")
    model = params["embed"]["models"]["l3_random_mel256"]
    assert model["width"] == 1.0
    assert model["kind"] == "l3_random"  # kept from base
    assert params["embed"]["hop_size"] == 0.1


def test_default_env_is_local_and_a_missing_key_is_named(monkeypatch):
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    assert active_env() == "local"
    with pytest.raises(ParameterError, match=r"'ingest\.nothing'"):
        configured_names("ingest.nothing")
