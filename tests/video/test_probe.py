"""Probing videos: the real files in ../shared/data/video, and every way one can be unusable."""

from __future__ import annotations

import shutil

import av
import numpy as np
import pytest
import soundfile as sf

from l3_kedro.errors import ParameterError, VideoError
from l3_kedro.video import probe_video

# name: (video codec, audio codec, fps, width, height, sample rate, duration in s)
REAL_VIDEOS = {
    "big_buck_bunny_0_30.webm": ("vp8", "vorbis", 24.0, 1280, 720, 44100, 30.0),
    "big_buck_bunny_432_433.webm": ("vp8", "vorbis", 24.0, 1280, 720, 44100, 1.0),
    "chaplin.mp4": ("h264", "mp3float", 25.0, 640, 360, 44100, 9.6),
    "example2.mp4": ("h264", "mp3float", 24.0, 1280, 720, 44100, 2.0),
    "example3.mp4": ("h264", "mp3float", 24.0, 854, 480, 44100, 2.0),
}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(REAL_VIDEOS))
def test_real_video_is_probed(shared_data, name):
    codec, audio_codec, fps, width, height, sr, duration = REAL_VIDEOS[name]
    path = shared_data / "video" / name
    info = probe_video(path)
    assert (info.video_codec, info.audio_codec) == (codec, audio_codec)
    assert (info.frame_rate, info.width, info.height) == (fps, width, height)
    assert (info.sample_rate, info.channels) == (sr, 2)
    assert info.duration_s == pytest.approx(duration, abs=0.05)
    assert info.n_frames == pytest.approx(duration * fps, abs=2)
    assert info.video_path == path and info.audio_path == path
    header = probe_video(path, decode=False)
    assert header.duration_s == pytest.approx(info.duration_s, abs=0.05)


@pytest.mark.shared_data
def test_video_without_sound_is_refused_unless_a_side_car_is_given(shared_data, tmp_path):
    video = shared_data / "video" / "no_audio_stream.mp4"
    with pytest.raises(VideoError, match=r"no audio stream") as info:
        probe_video(video)
    assert "no_audio_stream.mp4" in str(info.value) and "side-car audio file" in str(info.value)

    side_car = tmp_path / "no_audio_stream.flac"
    t = np.arange(22050 * 6) / 22050
    sf.write(side_car, 0.1 * np.sin(2 * np.pi * 220 * t), 22050)
    probed = probe_video(video, audio_path=side_car)
    assert probed.audio_path == side_car and probed.video_path == video
    assert (probed.audio_codec, probed.sample_rate, probed.channels) == ("flac", 22050, 1)
    assert probed.duration_s == pytest.approx(5.0, abs=0.01)  # the picture is the shorter

    with pytest.raises(VideoError, match=r"side-car audio file .*missing"):
        probe_video(video, audio_path=tmp_path / "absent.flac")


@pytest.mark.shared_data
def test_too_short_video_is_refused(shared_data):
    path = shared_data / "video" / "big_buck_bunny_432_433.webm"
    assert probe_video(path, min_duration=1.0).duration_s == pytest.approx(1.0, abs=0.01)
    with pytest.raises(VideoError, match=r"only 1.00 s long .*shorter than min_duration = 2"):
        probe_video(path, min_duration=2.0)


@pytest.mark.shared_data
def test_truncated_webm_is_refused(shared_data, tmp_path):
    data = (shared_data / "video" / "big_buck_bunny_0_30.webm").read_bytes()
    truncated = tmp_path / "cut.webm"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match=r"cut.webm.*truncated"):
        probe_video(truncated)


@pytest.mark.shared_data
def test_truncated_mp4_is_refused(shared_data, tmp_path):
    data = (shared_data / "video" / "chaplin.mp4").read_bytes()  # index at the end
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(VideoError, match=r"cut.mp4: not a readable video file"):
        probe_video(cut)


@pytest.mark.parametrize(
    ("kept", "problem"),
    [
        (0.5, "the frames of the last second cannot be decoded"),
        (0.7, r"frames stop at 4.\d\d s but the file declares 6.00 s; it is truncated"),
    ],
)
def test_truncated_faststart_mp4_is_refused_when_decoding(tmp_path, make_video, kept, problem):
    # Index first (faststart): the header survives the cut, the last frames do not.
    long = make_video(tmp_path / "long.mp4", n_frames=60)
    faststart = tmp_path / "faststart.mp4"
    with (
        av.open(str(long)) as source,
        av.open(str(faststart), "w", options={"movflags": "faststart"}) as target,
    ):
        streams = {s.index: target.add_stream_from_template(s) for s in source.streams}
        for packet in source.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                target.mux(packet)
    data = faststart.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * kept)])
    assert probe_video(cut, decode=False).duration_s == pytest.approx(6.0, abs=0.1)
    with pytest.raises(VideoError, match=f"cut.mp4: {problem}"):
        probe_video(cut)


def test_unusable_files_name_the_problem(tmp_path, tiny_video):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 50)
    audio_only = tmp_path / "tone.flac"
    sf.write(audio_only, np.zeros(16000, dtype=np.float32), 16000)
    cases = {
        tmp_path / "absent.mp4": "video file not found",
        empty: "empty",
        text: "not a readable video file",
        audio_only: "no video stream",
    }
    for path, problem in cases.items():
        with pytest.raises(VideoError, match=problem) as info:
            probe_video(path)
        assert path.name in str(info.value)


def test_generated_video_facts(tiny_video, tmp_path):
    info = probe_video(tiny_video)
    assert (info.width, info.height, info.frame_rate, info.n_frames) == (32, 24, 10.0, 20)
    assert (info.video_codec, info.audio_codec, info.sample_rate) == ("h264", "aac", 16000)
    assert info.duration_s == pytest.approx(2.0, abs=0.01)
    copy = shutil.copy(tiny_video, tmp_path / "copy.mp4")
    assert probe_video(copy, min_duration=0).duration_s == info.duration_s


@pytest.mark.parametrize("value", [-1.0, float("nan"), "1"])
def test_bad_min_duration(tiny_video, value):
    with pytest.raises(ParameterError, match=r"min_duration"):
        probe_video(tiny_video, min_duration=value)
