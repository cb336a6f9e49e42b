"""The leak detector itself (`support.leaks`): every secrets test is only as strict as it is.

Each case is a text a careless scrubber could leave behind, built from a form of the
token: the detector must name it, and must not flag a text that only shares letters with it.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from .support import leaks

TOKEN = "tok-7d1e40c9b2&x"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"auth {TOKEN} ok", id="raw"),
        pytest.param(f"auth {quote(TOKEN, safe='').lower()} ok", id="url-encoded-lower-case"),
        pytest.param(f'"{json.dumps(json.dumps(TOKEN))}"', id="json-twice"),
        pytest.param(f"token was {TOKEN[:7]}…", id="prefix-before-an-ellipsis"),
        pytest.param(f"token was '{TOKEN[:5]}'...", id="prefix-quoted-before-dots"),
        pytest.param(f"url=%3F{TOKEN[:5]}%E2%80%A6", id="prefix-before-a-url-encoded-ellipsis"),
        pytest.param(f"token ***{TOKEN[3:9]} left", id="residue-after-a-redaction"),
        pytest.param(f"cut here {TOKEN[:6]}", id="first-characters-without-a-mark"),
        pytest.param(f"AUTH {TOKEN.upper()}", id="upper-case"),
    ],
)
def test_a_form_of_the_token_is_found(text):
    assert leaks(TOKEN, text), text


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("to… and tok…", id="too-short-before-a-cut"),
        pytest.param("redacted: ***&quot; then ***%22", id="one-escape-after-a-redaction"),
        pytest.param("stoke-7d1e40c9b2ee is another word", id="inside-a-longer-word"),
    ],
)
def test_a_text_that_only_shares_letters_is_clean(text):
    assert [] == leaks(TOKEN, text)
