"""The embedder contract: protocols, the registry, and who decides the hop."""

from __future__ import annotations

import pytest

from l3_kedro.embedding.embedders import (
    BUILDERS,
    ClipEmbedder,
    WindowEmbedder,
    build_embedder,
    resolve_hop_size,
)
from l3_kedro.errors import ParameterError


class _Fixed:
    fixed_hop_size = 0.96


def test_the_hop_is_the_entrys_then_the_models_only_hop_then_the_shared_one():
    handcrafted = build_embedder("h", {"kind": "handcrafted"})
    assert resolve_hop_size(handcrafted, requested=None, shared=0.5) == 0.5
    assert resolve_hop_size(handcrafted, requested=0.25, shared=0.5) == 0.25
    assert resolve_hop_size(_Fixed(), requested=None, shared=0.5) == 0.96
    assert resolve_hop_size(_Fixed(), requested=1.0, shared=0.5) == 1.0


def test_built_embedders_meet_their_protocol():
    handcrafted = build_embedder("h", {"kind": "handcrafted"})
    assert isinstance(handcrafted, WindowEmbedder) and not isinstance(handcrafted, ClipEmbedder)
    assert handcrafted.attributes["name"] == "h"


def test_an_unknown_kind_lists_the_registry():
    with pytest.raises(ParameterError, match=r"embed\.models\.x\.kind.*'l3_random'"):
        build_embedder("x", {"kind": "openl4"})
    assert {"l3", "l3_random", "soundnet", "handcrafted", "openl3", "vggish", "hear"} == set(
        BUILDERS
    )
