"""The documentation page of a finding code, for `wiringcheck explain`.

Pages live in the repository's `docs/codes/`; an installation without them (a
wheel) falls back to the catalog's title and reason, so `explain` always answers.
"""

from __future__ import annotations

from pathlib import Path

from wiringcheck.codes import CODES

__all__ = ["DOCS_DIR", "code_page"]

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs" / "codes"
"""Where the per-code pages are, in a source checkout or an editable install."""


def code_page(code: str) -> str:
    """The Markdown page of `code` (which must be in the catalog)."""
    page = DOCS_DIR / f"{code}.md"
    if page.is_file():
        return page.read_text(encoding="utf-8")
    entry = CODES[code]
    return f"# {entry.code}: {entry.title}\n\n{entry.why}\n"
