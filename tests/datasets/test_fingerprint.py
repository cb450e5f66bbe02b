import os

import pandas as pd

from l3_kedro.datasets.fingerprint import embedding_fingerprint


def test_fingerprint_follows_clips_model_files_and_settings(tmp_path):
    clip = tmp_path / "a.wav"
    clip.write_bytes(b"1234")
    weights = tmp_path / "w.npy"
    weights.write_bytes(b"weights")
    clips = pd.DataFrame({"clip_id": ["a"], "path": [str(clip)]})
    spec = {"kind": "soundnet", "weights": str(weights)}
    settings = {"hop_size": 0.5, "models": {"ignored": {}}}
    base = embedding_fingerprint(clips, spec, settings)
    assert base == embedding_fingerprint(clips.copy(), dict(spec), dict(settings))
    assert base != embedding_fingerprint(clips, spec, {**settings, "hop_size": 0.1})
    assert base != embedding_fingerprint(clips, {**spec, "layer": "conv6"}, settings)
    weights.write_bytes(b"retrained")
    changed_weights = embedding_fingerprint(clips, spec, settings)
    assert changed_weights != base
    stat = clip.stat()
    os.utime(clip, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the clip was rewritten
    assert embedding_fingerprint(clips, spec, settings) != changed_weights
