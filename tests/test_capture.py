"""The capture command records exactly what the probe reads, and replays identically."""

from __future__ import annotations

import pytest

from fixtures import capture
from fixtures.machine import LiveMachine, RecordedMachine
from fixtures.probe import probe
from reports.document import to_jsonable
from tests.helpers import MACHINES, machine_names


def comparable(profile):
    data = to_jsonable(profile)
    for key in ("root", "description"):
        data.pop(key)
    return data


@pytest.mark.parametrize("name", machine_names())
def test_recapture_of_a_recorded_machine_replays_identically(tmp_path, name):
    out = tmp_path / "again"
    assert capture.main([str(out), "--from-sysroot", str(MACHINES / name)]) == 0
    assert comparable(probe(RecordedMachine(out))) == comparable(probe(RecordedMachine(MACHINES / name)))


def test_capture_this_machine_and_archive(tmp_path, capsys):
    out = tmp_path / "me"
    assert capture.main([str(out), "--description", "CI runner", "--archive"]) == 0
    printed = capsys.readouterr().out
    assert f"replay with: pytest --sysroot={out}" in printed and (tmp_path / "me.tar.gz").exists()
    replay = probe(RecordedMachine(out))
    assert replay.description.endswith("CI runner")
    assert comparable(replay)["kernel"] == comparable(probe(LiveMachine()))["kernel"]


def test_capture_refuses_a_non_empty_directory(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("keep me")
    assert capture.main([str(tmp_path / "x")]) == 2
    assert "not an empty directory" in capsys.readouterr().err


def test_redaction(tmp_path):
    recorder = capture.RecordingMachine(LiveMachine(), tmp_path)
    recorder.secrets = [("alice", "user"), ("alice-laptop", "host")]
    assert recorder.redact("/home/alice on alice-laptop") == "/home/user on user-laptop"
