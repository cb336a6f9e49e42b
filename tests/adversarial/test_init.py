"""`wiringcheck init` never leaves an invalid pyproject.toml, never overwrites unasked, and keeps the user's comments.

With ``--from-run``, init writes names a backend chose (its route, its frames' types and
fields); a backend whose frame types hold a DEL or a lone surrogate once made init write
an invalid ``pyproject.toml`` and exit 0, or crash (exit 4) writing it.
"""

from __future__ import annotations

import tomllib

import pytest

from wiringcheck.config import load_settings

from .support import in_process

COMMENTED = """\
# The project's own comment, at the top.
[project]
name = "myapp"  # keep this comment

[tool.wiringcheck]  # an old table
app = "old:app"
[tool.wiringcheck.probe]
deadline = 9.0

# A comment after the table, about ruff.
[tool.ruff]
line-length = 100
"""


@pytest.fixture(name="project")
def _project(tmp_path, monkeypatch):
    """An empty project folder as the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("app", "what"),
    [
        ("tests.adversarial.backends:types_with_a_delete_character", "a control character (U+007F)"),
        ("tests.adversarial.backends:types_with_a_lone_surrogate", "a lone surrogate (U+D800)"),
    ],
    ids=["DEL", "lone surrogate"],
)
def test_init_from_run_refuses_frame_types_no_toml_file_should_hold(app, what, project):
    """Frame types holding U+007F or a lone surrogate: exit 2 naming the character; the configuration untouched."""
    # The learning run ends at the deadline (its terminal is not known yet): two seconds, not the default five.
    start = f'app = "{app}"\n\n[probe]\ndeadline = 2.0\n'
    (project / "wiringcheck.toml").write_text(start)

    outcome = in_process(["init", "--from-run"])

    assert 2 == outcome.code, outcome.stdout + outcome.stderr
    assert what in outcome.stderr
    assert start == (project / "wiringcheck.toml").read_text()
    assert not (project / "pyproject.toml").exists()


def test_init_never_overwrites_a_table_without_force(project):
    """A [tool.wiringcheck] already there: exit 2, the file unchanged, and the message names --force."""
    (project / "pyproject.toml").write_text(COMMENTED)

    outcome = in_process(["init", "--app", "new:app"])

    assert 2 == outcome.code
    assert "--force" in outcome.stderr
    assert COMMENTED == (project / "pyproject.toml").read_text()


def test_init_force_replaces_the_table_and_keeps_every_comment(project):
    """`init --force` replaces the old table with the starter; every other line, comments included, stays."""
    (project / "pyproject.toml").write_text(COMMENTED)

    outcome = in_process(["init", "--app", "new:app", "--force"])

    text = (project / "pyproject.toml").read_text()
    assert 0 == outcome.code, outcome.stderr
    for kept in ("# The project's own comment, at the top.", "# keep this comment", "# A comment after the table"):
        assert kept in text
    assert "old:app" not in text
    settings = load_settings(project / "pyproject.toml")
    assert ("new:app", 5.0) == (settings.app, settings.probe.deadline)
    assert 100 == tomllib.loads(text)["tool"]["ruff"]["line-length"]


def test_init_never_writes_an_invalid_pyproject_when_tool_is_an_inline_table(project):
    """``tool = { ruff = {} }`` cannot take a [tool.wiringcheck] after it: exit 2, the file unchanged."""
    original = 'tool = { ruff = { line-length = 100 } }\n[project]\nname = "myapp"\n'
    (project / "pyproject.toml").write_text(original)

    outcome = in_process(["init", "--app", "new:app"])

    assert 2 == outcome.code, outcome.stdout + outcome.stderr
    assert "would not give valid TOML" in outcome.stderr
    assert original == (project / "pyproject.toml").read_text()
