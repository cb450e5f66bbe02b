"""Classes drawn at random (``ingest.avc.synthetic.drawn_classes``)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from l3_kedro.video.synthetic_classes import COOL, LARGE, SMALL, SUBSETS, SYNTHETIC_CLASSES, WARM
from l3_kedro.video.synthetic_drawn import MAX_DRAWN, draw_classes
from l3_kedro.video.synthetic_params import CorpusParameters
from l3_kedro.video.synthetic_render import plan_video, render_video
from tests.video.test_synthetic import AUDIOSET, TINY, passes, read_filter, segment_rows


def _impulsive(sound) -> bool:
    return getattr(sound, "decay_s", None) is not None or getattr(sound, "events", None) is not None


def test_deterministic_in_the_seed_and_capped():
    assert draw_classes("environmental", 12, 0) == draw_classes("environmental", 12, 0)
    other = draw_classes("environmental", 12, 1)
    assert [c.sound for c in other.values()] != [
        c.sound for c in draw_classes("environmental", 12, 0).values()
    ]
    assert (
        list(draw_classes("music", 5, 0).values()) == list(draw_classes("music", 9, 0).values())[:5]
    )
    with pytest.raises(ValueError, match="48"):
        draw_classes("music", MAX_DRAWN + 1, 0)


@pytest.mark.parametrize("subset", SUBSETS)
def test_every_object_distinct_and_following_the_sound(subset):
    drawn = draw_classes(subset, MAX_DRAWN, 0)
    everything = [*SYNTHETIC_CLASSES[subset].values(), *drawn.values()]
    looks = {(c.visual.shape, c.visual.colour, c.visual.size) for c in everything}
    assert len(looks) == len(everything) == 8 + MAX_DRAWN
    for name, cls in drawn.items():
        assert cls.visual.colour in (WARM if _impulsive(cls.sound) else COOL), name
    sizes = {c.visual.size for c in drawn.values()}
    assert sizes == {LARGE, SMALL}  # both registers are drawn


def test_ontology_ids_pass_their_own_subset_filter_only():
    ontology = {c["id"] for c in json.loads((AUDIOSET / "ontology.json").read_text())}
    rules = {subset: read_filter(subset) for subset in SUBSETS}
    for subset in SUBSETS:
        other = SUBSETS[1 - SUBSETS.index(subset)]
        for name, cls in draw_classes(subset, MAX_DRAWN, 0).items():
            family = name.split(" ~")[0]
            assert cls.ontology_id == SYNTHETIC_CLASSES[subset][family].ontology_id in ontology
            assert passes([cls.ontology_id], rules[subset])
            assert not passes([cls.ontology_id], rules[other])


def test_size_follows_the_measured_register():
    """Large objects: music ranges lower, environmental spectra centred lower (rendered)."""
    music = draw_classes("music", MAX_DRAWN, 0).values()
    centre = {
        size: [np.mean(c.sound.midi_range) for c in music if c.visual.size == size]
        for size in (LARGE, SMALL)
    }
    assert max(centre[LARGE]) < 60 <= min(centre[SMALL])
    params = CorpusParameters(1, 2.0, 8.0, 64, 32000, 0, drawn_classes=MAX_DRAWN)
    plan = plan_video("environmental", 0, params)
    freqs = np.fft.rfftfreq(2 * 32000, 1 / 32000)
    centroids = {LARGE: [], SMALL: []}
    for name, cls in draw_classes("environmental", MAX_DRAWN, 0).items():
        single = replace(plan, classes=(name,), intervals=(((0.0, 2.0),),), gains=(1.0,))
        power = np.abs(np.fft.rfft(render_video(single, params)[0][0])) ** 2
        centroids[cls.visual.size].append(np.exp(np.log(freqs[1:]) @ power[1:] / power[1:].sum()))
    assert np.median(centroids[LARGE]) * 2 < np.median(centroids[SMALL]), centroids


def test_a_corpus_with_drawn_classes(tmp_path):
    from l3_kedro.video.synthetic import generate_synthetic_corpus

    params = {**TINY, "n_videos_per_subset": 6, "drawn_classes": 48}
    segments = generate_synthetic_corpus(tmp_path / "avc", **params)
    stamp = json.loads((tmp_path / "avc" / "corpus.json").read_text())
    assert stamp["parameters"]["drawn_classes"] == 48
    corpus = CorpusParameters(**{k: v for k, v in params.items()}, seed=0)
    plans = [plan_video(s, i, corpus) for s in SUBSETS for i in range(6)]
    assert any("~" in c for plan in plans for c in plan.classes)  # drawn classes are used
    rows = segment_rows(segments)
    assert [labels for *_, labels in rows] == [list(plan.labels) for plan in plans]
    readme = (tmp_path / "avc" / "README.txt").read_text()
    assert all(name in readme for plan in plans for name in plan.classes)


def test_drawn_instruments_play_distinct_general_midi_programs_of_their_kind():
    from l3_kedro.video.soundfont import GM_PROGRAMS, IMPULSIVE_PROGRAMS, SUSTAINED_PROGRAMS

    drawn = draw_classes("music", MAX_DRAWN, 0)
    programs = [c.program for c in drawn.values()]
    assert len(set(programs)) == len(programs) and not set(programs) & set(GM_PROGRAMS.values())
    for name, cls in drawn.items():
        pool = IMPULSIVE_PROGRAMS if cls.sound.decay_s is not None else SUSTAINED_PROGRAMS
        assert cls.program in pool, name
    assert all(c.program is None for c in draw_classes("environmental", 8, 0).values())
    params = CorpusParameters(1, 2.0, 8.0, 64, 16000, 0, drawn_classes=4)
    name = next(iter(drawn))
    plan = replace(plan_video("music", 0, params), classes=(name,), intervals=(((0.0, 2.0),),))
    procedural = render_video(plan, params)[0]
    sampled = render_video(plan, replace(params, instruments="soundfont"))[0]
    assert np.sqrt(np.mean(sampled**2)) > 1e-3 and not np.allclose(sampled, procedural)
