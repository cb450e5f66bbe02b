"""Classes drawn at random: many more sound kinds for the synthetic AVC corpus.

The hand-made registry (:mod:`l3_kedro.video.synthetic_classes`) has eight
classes per subset, and telling eight classes apart by their objects solves
the AVC task after a few thousand pairs, so the audio tower learns little
beyond them. :func:`draw_classes` adds ``n`` classes per subset whose sound
recipes are drawn from broad ranges (a :class:`ToneSpec` for music: partials,
register, attack, decay, vibrato, breath, tremolo, click; a
:class:`TextureSpec` for environmental sounds: tone, noise band, amplitude
modulation, event trains, resonances) and whose objects follow the drawn
sound by the corpus's own correspondences:

- size: low sources (music: a range centred below middle C; environmental:
  energy centred below about 1.5 kHz) are large, high ones small;
- colour family: impulsive sources (struck, plucked, event trains) warm,
  sustained ones cool;
- shape and the colour within its family: drawn, distinct from every other
  class of the subset.

A drawn instrument also gets a General MIDI program of its kind (struck or
plucked for a decaying envelope, sustained otherwise, see
:data:`~l3_kedro.video.soundfont.IMPULSIVE_PROGRAMS`), distinct from the
other classes' while programs last, which plays it with ``instruments:
soundfont``: up to 48 recorded instruments beside the eight. Each drawn
class carries the ontology id of the hand-made class it is
nearest to by a simple rule (:func:`_music_family`, :func:`_texture_family`),
so the paper's subset filters sort it into its own subset. Deterministic in
``seed``.
"""

from __future__ import annotations

import functools

import numpy as np

from l3_kedro.video.soundfont import GM_PROGRAMS, IMPULSIVE_PROGRAMS, SUSTAINED_PROGRAMS
from l3_kedro.video.synthetic_classes import (
    COOL,
    LARGE,
    SHAPES,
    SMALL,
    SUBSETS,
    SYNTHETIC_CLASSES,
    WARM,
    SyntheticClass,
    TextureSpec,
    ToneSpec,
    VisualSpec,
)

MAX_DRAWN = 48
"""At most this many drawn classes per subset (objects stay distinct)."""


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _draw_tone(rng: np.random.Generator) -> ToneSpec:
    """A harmonic instrument: random spectrum, register, envelope and modulation."""
    n_partials = int(rng.integers(1, 13))
    slope = rng.uniform(0.3, 2.5)
    stretch = _loguniform(rng, 1e-5, 3e-3) if rng.random() < 0.3 else 0.0  # inharmonicity
    odd_only = rng.random() < 0.2
    partials = tuple(
        (float(k * np.sqrt(1.0 + stretch * k * k)), float(rng.uniform(0.3, 1.0) / k**slope))
        for k in range(1, 2 * n_partials + 1)
        if not (odd_only and k % 2 == 0 and k > 1)
    )[:n_partials]
    low = int(rng.integers(33, 80))
    plucked = rng.random() < 0.5
    return ToneSpec(
        partials=partials,
        midi_range=(low, low + int(rng.integers(12, 25))),
        note_s=(0.12, 0.45) if rng.random() < 0.5 else (0.35, 1.1),
        attack_s=_loguniform(rng, 0.002, 0.012) if plucked else _loguniform(rng, 0.02, 0.15),
        decay_s=_loguniform(rng, 0.15, 1.5) if plucked else None,
        vibrato=(rng.uniform(4.0, 7.0), rng.uniform(0.05, 0.4)) if rng.random() < 0.3 else (0, 0),
        breath=rng.uniform(0.1, 0.6) if rng.random() < 0.25 else 0.0,
        tremolo=(rng.uniform(3.0, 9.0), rng.uniform(0.2, 0.7)) if rng.random() < 0.2 else (0, 0),
        click=rng.uniform(0.1, 0.5) if plucked and rng.random() < 0.5 else 0.0,
    )


def _draw_texture(rng: np.random.Generator) -> TextureSpec:
    """An environmental texture: tonal, noisy or both, steady, modulated or in events."""
    kind = rng.choice(["tonal", "noise", "both", "events", "resonant"])
    spec: dict = {}
    if kind in ("tonal", "both") or (kind == "events" and rng.random() < 0.4):
        spec.update(
            tone_hz=_loguniform(rng, 30.0, 2500.0),
            harmonics=int(rng.integers(1, 17)),
            tone_level=1.0 if kind != "both" else rng.uniform(0.3, 1.0),
        )
        if rng.random() < 0.3:
            spec["sweep"] = (_loguniform(rng, 0.1, 2.0), rng.uniform(0.05, 0.35))
    if kind in ("noise", "both", "events"):
        low = _loguniform(rng, 20.0, 5000.0)
        spec.update(
            noise_band_hz=(low, min(low * _loguniform(rng, 2.0, 20.0), 16000.0)),
            noise_level=1.0 if kind != "both" else rng.uniform(0.2, 1.0),
        )
    if kind in ("events", "resonant"):
        spec["events"] = (_loguniform(rng, 0.8, 16.0), _loguniform(rng, 0.005, 0.2))
        if kind == "resonant":
            spec["resonances_hz"] = tuple(
                sorted(_loguniform(rng, 200.0, 7000.0) for _ in range(int(rng.integers(1, 4))))
            )
    elif rng.random() < 0.5:
        spec["am"] = (_loguniform(rng, 0.2, 25.0), rng.uniform(0.2, 0.9), float(rng.integers(1, 4)))
    return TextureSpec(**spec)


def _centre_hz(spec: TextureSpec) -> float:
    """Where a texture's energy is centred (Hz, geometric): tone, band or resonances."""
    if spec.resonances_hz:
        return float(np.exp(np.mean(np.log(spec.resonances_hz))))
    parts = []
    if spec.tone_level:
        parts.append(spec.tone_hz * np.sqrt(min(spec.harmonics, 4)))
    if spec.noise_level:
        parts.append(np.sqrt(spec.noise_band_hz[0] * spec.noise_band_hz[1]))
    return float(np.exp(np.mean(np.log(parts))))


def _music_family(spec: ToneSpec) -> str:
    """The hand-made music class a drawn instrument is nearest to (its ontology id)."""
    low = np.mean(spec.midi_range) < 60
    if spec.decay_s is not None:
        if spec.click:
            return "Piano" if low else "Marimba, xylophone"
        return "Acoustic guitar" if low else "Tubular bells"
    if spec.breath:
        return "Flute"
    if spec.vibrato[1]:
        return "Violin, fiddle"
    return "Organ" if low else "Trumpet"


def _texture_family(spec: TextureSpec) -> str:
    """The hand-made environmental class a drawn texture is nearest to."""
    low = _centre_hz(spec) < 1500.0
    if spec.events is not None:
        if spec.resonances_hz:
            return "Chop"
        if spec.tone_level:
            return "Bark"
        return "Gunshot, gunfire" if low else "Applause"
    if spec.am[1] and spec.am[0] > 8.0:
        return "Helicopter"
    if spec.tone_level >= spec.noise_level:
        return "Engine" if low else "Siren"
    return "Jet engine"


@functools.cache
def draw_classes(subset: str, n: int, seed: int) -> dict[str, SyntheticClass]:
    """``n`` (0-48) classes of ``subset`` drawn from ``seed``, named ``"<family> ~<k>"``.

    Every object (shape, colour, size) differs from the hand-made classes' and
    from each other's; size and colour family follow the sound (module doc).
    """
    if not 0 <= n <= MAX_DRAWN:
        raise ValueError(f"n must be in [0, {MAX_DRAWN}], not {n}")
    rng = np.random.default_rng([seed, SUBSETS.index(subset), 1_000_003])
    taken = {
        (c.visual.shape, c.visual.colour, c.visual.size) for c in SYNTHETIC_CLASSES[subset].values()
    }
    # programs from a stream of their own: the sounds and objects do not depend on them
    program_rng = np.random.default_rng([seed, SUBSETS.index(subset), 2_000_003])
    pools = {
        kind: [int(p) for p in program_rng.permutation(pool) if p not in GM_PROGRAMS.values()]
        for kind, pool in ((True, IMPULSIVE_PROGRAMS), (False, SUSTAINED_PROGRAMS))
    }
    drawn: dict[str, SyntheticClass] = {}
    for k in range(n):
        if subset == "music":
            sound = _draw_tone(rng)
            family, low = _music_family(sound), np.mean(sound.midi_range) < 60
            impulsive = sound.decay_s is not None
        else:
            sound = _draw_texture(rng)
            family, low = _texture_family(sound), _centre_hz(sound) < 1500.0
            impulsive = sound.events is not None
        size = LARGE if low else SMALL
        free = [
            (shape, colour)
            for shape in SHAPES
            for colour in (WARM if impulsive else COOL)
            if (shape, colour, size) not in taken
        ]
        shape, colour = free[int(rng.integers(len(free)))]
        taken.add((shape, colour, size))
        ontology_id = SYNTHETIC_CLASSES[subset][family].ontology_id
        program = None
        if subset == "music":  # cycle through the pool when it runs out
            pool = pools[impulsive]
            program = pool.pop(0)
            pool.append(program)
        drawn[f"{family} ~{k + 1:02d}"] = SyntheticClass(
            ontology_id, VisualSpec(shape, colour, size), sound, program
        )
    return drawn


def corpus_classes(subset: str, n_drawn: int, seed: int) -> dict[str, SyntheticClass]:
    """The hand-made classes of ``subset`` followed by ``n_drawn`` drawn ones."""
    return {**SYNTHETIC_CLASSES[subset], **draw_classes(subset, n_drawn, seed)}
