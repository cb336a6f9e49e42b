"""importing.py: the backend's folders go on sys.path for a run, and come off it after."""

from __future__ import annotations

import sys
from pathlib import Path

from wiringcheck.importing import on_path, prepend_paths, remove_paths


def test_on_path_adds_the_folders_first_and_removes_them_after(tmp_path):
    """Inside the block the configured folders lead sys.path; after it, sys.path is as it was."""
    before = list(sys.path)
    first, second = tmp_path / "a", tmp_path / "b"

    with on_path([first, second]):
        assert [str(first), str(second)] == sys.path[:2]

    assert before == sys.path


def test_a_folder_already_on_sys_path_is_left_there():
    """A folder that was on sys.path before is neither added twice nor removed."""
    present = sys.path[-1]
    before = list(sys.path)

    assert [] == prepend_paths([Path(present)])
    with on_path([Path(present)]):
        pass

    assert before == sys.path


def test_remove_paths_takes_off_only_what_was_added(tmp_path):
    """`remove_paths` removes one occurrence of each entry it is given, wherever it moved to."""
    added = prepend_paths([tmp_path])
    sys.path.append("elsewhere-entry")
    try:
        remove_paths(added)
        assert str(tmp_path) not in sys.path
        assert "elsewhere-entry" in sys.path
    finally:
        sys.path.remove("elsewhere-entry")
