"""Plan and synthesise one video of the synthetic AVC corpus.

:func:`plan_video` draws everything random about a video from its seed
(identity, classes, on/off schedule, layout); :func:`render_video` turns the
plan into one sound stem per source and RGB frames in which each source's
object is drawn exactly while that source sounds. Pure numpy, vectorised over
samples and frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from l3_kedro.video.soundfont import GM_PROGRAMS, render_notes
from l3_kedro.video.synthetic_classes import (
    SHAPES,
    SUBSETS,
    TextureSpec,
    ToneSpec,
)
from l3_kedro.video.synthetic_params import (
    YTID_ALPHABET,
    CorpusParameters,
)

_PENTATONIC = (0, 2, 4, 7, 9)
_SEGMENT_S = (2.5, 4.0)  # lengths of the stretches of one state (silence or one source)
_CENTRE_JITTER = 0.06  # objects sit at the image centre +- this (fractions of the side)
_MUSIC_Y = (0.58, 0.42)  # object centre at the lowest and highest note
_BACKGROUND = (0.12, 0.4)  # grey level of the background
_MIN_SCALE = 0.85  # environmental object size at silence, relative to its loudest
_RAMP_S = 0.01
_TARGET_RMS = 0.1
_PEAK = 0.89


@dataclass(frozen=True)
class VideoPlan:
    """Everything random about one video, drawn from its seed before synthesis.

    ``intervals[j]`` are the (start, end) times in seconds during which source
    ``j`` (class ``classes[j]``) sounds and its object is drawn; ``slots_x[j]``
    is the object's horizontal centre and ``heights[j]`` its vertical centre
    (environmental objects; music objects follow pitch), as fractions of the
    image; ``gains[j]`` its level in the mix. The background is an RGB colour
    (0-1) whose brightness varies by +-12 % with ``background_wave`` =
    (period s, phase rad). ``labels`` are the ontology ids of the classes, in
    the order of the corpus's classes.
    """

    subset: str
    index: int
    ytid: str
    start_s: float
    classes: tuple[str, ...]
    intervals: tuple[tuple[tuple[float, float], ...], ...]
    slots_x: tuple[float, ...]
    heights: tuple[float, ...]
    gains: tuple[float, ...]
    background: tuple[float, float, float]
    background_wave: tuple[float, float]
    labels: tuple[str, ...]

    def segment_ms(self, duration_s: float) -> tuple[int, int]:
        """Start and end of the segment in the source "video", in milliseconds."""
        start_ms = round(self.start_s * 1000)
        return start_ms, start_ms + round(duration_s * 1000)

    def file_stem(self, duration_s: float) -> str:
        """``{ytid}_{start_ms}_{end_ms}`` (the AudioSet download naming)."""
        start_ms, end_ms = self.segment_ms(duration_s)
        return f"{self.ytid}_{start_ms}_{end_ms}"


def plan_video(subset: str, index: int, params: CorpusParameters) -> VideoPlan:
    """Draw video ``index`` of ``subset``: identity, classes, on/off schedule and layout.

    The video has two sources with probability ``params.two_sources_p``, else
    one, and is cut into stretches of 2.5-4 s (the last one at least 1 s).
    Unless the video has a single stretch, a stretch that does not follow a
    silent one is silent (no sound, no object) with probability
    ``params.silent_stretch_p``; every other stretch belongs to one of the
    video's sources, each of which sounds at least once. So at most one source
    sounds at a time, and at least one stretch sounds. The embedded default
    (both probabilities 0) gives one source sounding throughout, its object
    always in view.
    """
    rng = np.random.default_rng([params.seed, SUBSETS.index(subset), index])
    ytid, start_s = "".join(rng.choice(list(YTID_ALPHABET), size=11)), float(rng.integers(0, 300))
    cuts = np.cumsum(rng.uniform(*_SEGMENT_S, size=int(params.duration_s) + 2))
    bounds = np.concatenate([[0.0], cuts[cuts < params.duration_s - 1.0], [params.duration_s]])
    silent = np.zeros(len(bounds) - 1, dtype=bool)
    for k in range(silent.size if silent.size > 1 else 0):
        silent[k] = not (k and silent[k - 1]) and rng.random() < params.silent_stretch_p
    sounding = np.flatnonzero(~silent)
    n_sources = min(1 + int(rng.random() < params.two_sources_p), sounding.size)
    registry = params.classes(subset)
    names = list(registry)
    classes = tuple(str(c) for c in rng.choice(names, size=n_sources, replace=False))
    # Each source takes one sounding stretch of its own, the rest at random.
    owner = rng.integers(n_sources, size=sounding.size)
    owner[rng.permutation(sounding.size)[:n_sources]] = np.arange(n_sources)
    active = np.zeros((n_sources, silent.size), dtype=bool)
    active[owner, sounding] = True
    centres = 0.5 + rng.uniform(-_CENTRE_JITTER, _CENTRE_JITTER, size=(2, n_sources))
    return VideoPlan(
        subset=subset,
        index=index,
        ytid=ytid,
        start_s=start_s,
        classes=classes,
        intervals=tuple(_runs(row, bounds) for row in active),
        slots_x=tuple(float(x) for x in centres[0]),
        heights=tuple(float(y) for y in centres[1]),
        gains=tuple(float(g) for g in rng.uniform(0.6, 1.0, size=n_sources)),
        background=tuple(float(c) for c in rng.uniform(*_BACKGROUND) + rng.uniform(-0.04, 0.04, 3)),
        background_wave=(float(rng.uniform(6.0, 12.0)), float(rng.uniform(0, 2 * np.pi))),
        labels=tuple(
            dict.fromkeys(registry[c].ontology_id for c in sorted(classes, key=names.index))
        ),
    )


def _runs(row: np.ndarray, bounds: np.ndarray) -> tuple[tuple[float, float], ...]:
    """Merge consecutive active segments into (start, end) intervals in seconds."""
    edges = np.diff(np.concatenate([[0], row.astype(int), [0]]))
    return tuple(
        (float(bounds[a]), float(bounds[b]))
        for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)
    )


def render_video(plan: VideoPlan, params: CorpusParameters) -> tuple[np.ndarray, np.ndarray]:
    """Synthesise a planned video.

    Returns
    -------
    stems : np.ndarray [shape=(n_sources, n_samples), dtype=float32]
        Each source's sound at ``params.sample_rate``, scaled so that their
        sum (the sound track) peaks at most at 0.89.
    frames : np.ndarray [shape=(n_frames, image_size, image_size, 3), dtype=uint8]
        RGB frames at ``params.frame_rate``; frame ``i`` shows time ``i / frame_rate``.
    """
    size, t_frames = params.image_size, np.arange(params.n_frames) / params.frame_rate
    grid = (np.arange(size, dtype=np.float32) + 0.5) / size
    period, phase = plan.background_wave
    level = 1.0 + 0.12 * np.sin(2 * np.pi * t_frames / period + phase)
    shade = level[:, None, None, None] * (1.0 + 0.15 * (grid - 0.5))[None, :, None, None]
    background = np.round(255.0 * np.clip(shade * np.asarray(plan.background), 0.0, 1.0))
    img = np.broadcast_to(background.astype(np.uint8), (params.n_frames, size, size, 3)).copy()
    stems = []
    for j, name in enumerate(plan.classes):
        cls = params.classes(plan.subset)[name]
        rng = np.random.default_rng([params.seed, SUBSETS.index(plan.subset), plan.index, j + 1])
        gate = _gate(plan.intervals[j], params)
        program = None
        if params.instruments == "soundfont":
            program = GM_PROGRAMS.get(name, cls.program)
        if isinstance(cls.sound, ToneSpec):
            notes = _plan_notes(cls.sound, plan.intervals[j], rng)
            if program is None:
                audio = _play_tones(cls.sound, notes, gate, rng, params)
            else:
                audio = _sampled(program, notes, gate, rng, params)
            y, scale = _pitch_height(cls.sound, notes, params), np.ones(params.n_frames)
        else:
            if program is None:
                audio = _texture(cls.sound, plan.intervals[j], gate, rng, params)
            else:
                notes = _effect_notes(cls.sound, plan.intervals[j], rng)
                audio = _sampled(program, notes, gate, rng, params)
            y, scale = np.full(params.n_frames, plan.heights[j]), _loudness_scale(audio, params)
        on = audio[gate > 0]
        stems.append(audio * (plan.gains[j] * _TARGET_RMS / max(np.sqrt(np.mean(on**2)), 1e-9)))
        visible = np.zeros(params.n_frames, dtype=bool)
        for a, b in plan.intervals[j]:
            visible |= (t_frames >= a) & (t_frames < b)
        radius = cls.visual.size * scale
        u = (grid[None, None, :] - plan.slots_x[j]) / radius[:, None, None]
        v = (grid[None, :, None] - y[:, None, None]) / radius[:, None, None]
        mask = SHAPES[cls.visual.shape](u, v) & visible[:, None, None]
        img[mask] = cls.visual.colour
    mix_peak = np.max(np.abs(np.sum(stems, axis=0)))
    stems_out = np.asarray(stems, dtype=np.float32) * min(1.0, _PEAK / max(mix_peak, 1e-9))
    return stems_out, img


def _gate(intervals: tuple[tuple[float, float], ...], params: CorpusParameters) -> np.ndarray:
    """0/1 gate over the samples of the intervals, with 10 ms linear ramps at the edges."""
    sr, n = params.sample_rate, params.n_samples
    hard = np.zeros(n)
    for a, b in intervals:
        hard[round(a * sr) : round(b * sr)] = 1.0
    width = max(1, round(_RAMP_S * sr))
    total = np.concatenate([[0.0], np.cumsum(np.pad(hard, (width // 2, width - width // 2)))])
    return (total[width : width + n] - total[:n]) / width


def _band_noise(rng: np.random.Generator, n: int, sr: int, band: tuple[float, float]) -> np.ndarray:
    """White noise band-limited to ``band`` Hz (FFT mask), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    spectrum[(freqs < band[0]) | (freqs > band[1])] = 0.0
    noise = np.fft.irfft(spectrum, n)
    return noise / max(np.sqrt(np.mean(noise**2)), 1e-12)


def _wrap(phase: np.ndarray) -> np.ndarray:
    """Phase in radians reduced to [0, 2 pi)."""
    return phase - 2 * np.pi * np.floor(phase / (2 * np.pi))


def _sin(phase: np.ndarray) -> np.ndarray:
    """sin of a float64 phase, computed in float32 after reduction (several times faster)."""
    return np.sin(_wrap(phase).astype(np.float32))


Notes = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(onsets s, offsets s, MIDI pitches), each of shape (n_notes,), sorted by onset."""


def _plan_notes(
    spec: ToneSpec, intervals: tuple[tuple[float, float], ...], rng: np.random.Generator
) -> Notes:
    """Legato notes of a major pentatonic random walk filling each interval."""
    lo, hi = spec.midi_range
    scale = [m for m in range(lo, hi + 1) if (m - lo) % 12 in _PENTATONIC]
    onsets, offsets, pitches = [], [], []
    for a, b in intervals:
        t, degree = a, int(rng.integers(len(scale)))
        while b - t > 0.1:
            end = t + rng.uniform(*spec.note_s)
            end = b if b - end < 0.1 else end
            onsets.append(t), offsets.append(end), pitches.append(scale[degree])
            degree = int(np.clip(degree + rng.integers(-2, 3), 0, len(scale) - 1))
            t = end
    return np.array(onsets), np.array(offsets), np.array(pitches, float)


def _pitch_height(spec: ToneSpec, notes: Notes, params: CorpusParameters) -> np.ndarray:
    """The object's height per frame: the sounding note's place in the instrument's range."""
    onsets, _, pitches = notes
    t_frames = np.arange(params.n_frames) / params.frame_rate
    frame_pitch = pitches[np.clip(np.searchsorted(onsets, t_frames, side="right") - 1, 0, None)]
    return np.interp(frame_pitch, spec.midi_range, _MUSIC_Y)


def _event_times(
    a: float, b: float, rate: float, last: float, rng: np.random.Generator
) -> np.ndarray:
    """Event times (s) from ``a`` + 20 ms at about ``rate`` Hz (gaps +-40 %), before ``last``."""
    gaps = rng.uniform(0.6, 1.4, size=int((b - a) * rate * 1.5) + 2) / rate
    times = a + 0.02 + np.concatenate([[0.0], np.cumsum(gaps)])
    return times[times < last]


def _effect_notes(
    spec: TextureSpec, intervals: tuple[tuple[float, float], ...], rng: np.random.Generator
) -> Notes:
    """Sound-effect notes (middle C): one per event for event trains, else one per interval."""
    onsets, offsets = [], []
    for a, b in intervals:
        if spec.events is None:
            onsets.append(a), offsets.append(b)
            continue
        times = _event_times(a, b, spec.events[0], b - 0.05, rng)
        onsets.extend(times), offsets.extend(np.minimum(times + max(5 * spec.events[1], 0.3), b))
    return np.array(onsets), np.array(offsets), np.full(len(onsets), 60.0)


def _sampled(
    program: int, notes: Notes, gate: np.ndarray, rng: np.random.Generator, params: CorpusParameters
) -> np.ndarray:
    """``notes`` played on General MIDI ``program`` (velocities 70-110), gated."""
    onsets, offsets, pitches = notes
    audio = render_notes(
        program,
        onsets,
        offsets,
        pitches,
        rng.integers(70, 111, size=onsets.size),
        n_samples=params.n_samples,
        sample_rate=params.sample_rate,
    )
    return audio * gate


def _play_tones(
    spec: ToneSpec,
    notes: Notes,
    gate: np.ndarray,
    rng: np.random.Generator,
    params: CorpusParameters,
) -> np.ndarray:
    """``notes`` played on the procedural instrument ``spec``, gated."""
    onsets, offsets, pitches = notes
    sr = params.sample_rate
    t = np.arange(params.n_samples) / sr
    note = np.clip(np.searchsorted(onsets, t, side="right") - 1, 0, len(onsets) - 1)
    since = np.maximum(t - onsets[note], 0.0)
    env = np.clip(since / spec.attack_s, 0.0, 1.0) * gate
    env *= np.clip((offsets[note] - t) / _RAMP_S, 0.0, 1.0)
    freq = 440.0 * 2.0 ** ((pitches[note] - 69.0) / 12.0)
    rate, depth = spec.vibrato
    freq = freq * 2.0 ** (depth / 12.0 * np.sin(2 * np.pi * rate * t))
    phase = 2 * np.pi * np.cumsum(freq) / sr
    on = np.flatnonzero(env > 0)
    phase, freq, since = phase[on], freq[on], since[on].astype(np.float32)
    sound = np.zeros(on.size, dtype=np.float32)
    for ratio, amp in spec.partials:
        partial = amp * _sin(ratio * phase + rng.uniform(0, 2 * np.pi))
        if spec.decay_s is not None:
            partial *= np.exp(since * np.float32(-(1.0 + 0.3 * (ratio - 1.0)) / spec.decay_s))
        if ratio * freq.max(initial=0.0) >= 0.45 * sr:
            partial *= ratio * freq < 0.45 * sr
        sound += partial
    if spec.click:
        burst = rng.standard_normal(on.size).astype(np.float32)
        sound += spec.click * burst * np.exp(since / np.float32(-0.01))
    audio = np.zeros(params.n_samples)
    audio[on] = sound
    rate, depth = spec.tremolo
    if depth:
        audio *= 1.0 - depth * (0.5 + 0.5 * np.sin(2 * np.pi * rate * t))
    if spec.breath:
        audio += spec.breath * _band_noise(rng, params.n_samples, sr, (1500.0, 9000.0)) * 0.3
    return audio * env


def _texture(
    spec: TextureSpec,
    intervals: tuple[tuple[float, float], ...],
    gate: np.ndarray,
    rng: np.random.Generator,
    params: CorpusParameters,
) -> np.ndarray:
    """An environmental texture sounding during ``intervals`` (gated by ``gate``)."""
    sr, n = params.sample_rate, params.n_samples
    t = np.arange(n) / sr
    bed = np.zeros(n)
    if spec.tone_level:
        rate, depth = spec.sweep
        freq = spec.tone_hz * (1.0 + depth * np.sin(2 * np.pi * rate * t + rng.uniform(0, 6.3)))
        phase = _wrap(2 * np.pi * np.cumsum(freq) / sr).astype(np.float32)
        for k in range(1, spec.harmonics + 1):
            bed += spec.tone_level / k * np.sin(k * phase) * (k * spec.tone_hz < 0.4 * sr)
    if spec.noise_level:
        bed += spec.noise_level * _band_noise(rng, n, sr, spec.noise_band_hz)
    rate, depth, sharpness = spec.am
    bed *= 1.0 - depth + depth * (0.5 + 0.5 * np.sin(2 * np.pi * rate * t)) ** sharpness
    if spec.events is None:
        return bed * gate
    event_rate, decay_s = spec.events
    impulses = np.zeros(n)
    for a, b in intervals:
        times = _event_times(a, b, event_rate, b - min(decay_s, 0.05), rng)
        impulses[np.round(times * sr).astype(int)] = rng.uniform(0.6, 1.0, size=times.size)
    kt = np.arange(int(5 * decay_s * sr)) / sr
    if spec.resonances_hz:
        modes = sum(np.sin(2 * np.pi * f * kt) / (i + 1) for i, f in enumerate(spec.resonances_hz))
        return fftconvolve(impulses, modes * np.exp(-kt / decay_s))[:n] * gate
    kernel = np.minimum(kt / min(0.1 * decay_s, 0.005), 1.0) * np.exp(-kt / decay_s)
    return bed * fftconvolve(impulses, kernel)[:n] * gate


def _loudness_scale(audio: np.ndarray, params: CorpusParameters) -> np.ndarray:
    """Object size per frame, 0.55-1.0, from the RMS in a 1/frame_rate window at the frame."""
    energy = np.concatenate([[0.0], np.cumsum(audio**2)])
    centres = np.arange(params.n_frames) / params.frame_rate * params.sample_rate
    half = params.sample_rate / params.frame_rate / 2
    lo = np.clip(np.round(centres - half), 0, audio.size).astype(int)
    hi = np.clip(np.round(centres + half), 0, audio.size).astype(int)
    rms = np.sqrt((energy[hi] - energy[lo]) / np.maximum(hi - lo, 1))
    return _MIN_SCALE + (1.0 - _MIN_SCALE) * np.sqrt(rms / max(rms.max(), 1e-12))
