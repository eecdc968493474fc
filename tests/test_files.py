"""The bot's own local files (rcabot/files.py) under the operating system's faults: a file-size
limit that cuts a write short, a line torn by a crash, a full disk during a replace."""
from __future__ import annotations

import json
import os
import resource
from contextlib import contextmanager

import pytest

from rcabot.files import append_to, replace_whole


@contextmanager
def file_size_limit(limit: int):
    """No file of this process may grow past `limit` bytes (Python ignores SIGXFSZ: writes fail)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_an_append_cut_short_is_taken_back_whole_and_the_next_one_lands_whole(tmp_path):
    path = tmp_path / "log.jsonl"
    append_to(path, b'{"n": 1}\n')
    with file_size_limit(path.stat().st_size + 5):  # room for 5 bytes of the next line only
        with pytest.raises(OSError):
            append_to(path, b'{"n": 2, "padding": "................"}\n')
    assert path.read_bytes() == b'{"n": 1}\n'  # no half line left behind
    append_to(path, b'{"n": 3}\n')
    assert lines(path) == [{"n": 1}, {"n": 3}]


def test_a_line_torn_by_a_crash_does_not_swallow_the_next_one(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"n": 1}\n{"n": 2, "cut her')  # the process died mid-write
    append_to(path, b'{"n": 3}\n')
    assert path.read_text().splitlines()[-1] == '{"n": 3}'


def test_a_replace_that_fails_keeps_the_old_file_and_leaves_no_temporary_one(tmp_path):
    path = tmp_path / "state.json"
    replace_whole(path, b"old")
    with file_size_limit(1024):
        with pytest.raises(OSError):
            replace_whole(path, b"x" * 4096)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["state.json"]
