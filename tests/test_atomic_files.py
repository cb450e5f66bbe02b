import pytest

from l3_kedro.atomic_files import replace_atomically


def test_a_crash_mid_write_keeps_the_previous_file_and_leaves_no_partial(tmp_path):
    target = tmp_path / "best.keras"
    target.write_bytes(b"last good model")

    def crash(partial):
        partial.write_bytes(b"half a mod")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        replace_atomically(target, crash)
    assert target.read_bytes() == b"last good model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras"]
    replace_atomically(target, lambda partial: partial.write_bytes(b"new"))
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras"]
