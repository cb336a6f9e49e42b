"""secrets.py: every form of a secret is scrubbed, URL credentials are masked, truncation never leaks a prefix."""

from __future__ import annotations

import base64
import json
import string
from urllib.parse import quote, quote_plus
from xml.sax.saxutils import escape

from hypothesis import given, settings
from hypothesis import strategies as st

from wiringcheck.findings import CheckResult, Finding, Phase, Status
from wiringcheck.report import Report
from wiringcheck.secrets import REDACTED, Secrets, mask_urls, shorten, url_secrets

TOKEN = "tok&<>\"'%\\n-é-12345"


def forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        escape(secret),
        escape(secret, {'"': "&quot;"}),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ]


def test_every_encoded_form_of_the_token_is_scrubbed():
    """Raw, URL-, JSON-, repr-, XML-escaped and base64 forms all become the redaction mark."""
    secrets = Secrets([TOKEN])

    assert [f"<{REDACTED}>"] * len(forms(TOKEN)) == [secrets.scrub_text(f"<{form}>") for form in forms(TOKEN)]


def test_a_prefix_cut_by_truncation_is_scrubbed():
    """A secret cut short by `shorten` leaves no readable start behind."""
    text = shorten("close reason: " + TOKEN + " and more", 24)

    assert TOKEN[:4] not in Secrets([TOKEN]).scrub_text(text)


def test_short_values_are_not_secrets():
    """Replacing every 'a' in a report would destroy it: values under three characters are ignored."""
    assert "a b" == Secrets(["a", "", None]).scrub_text("a b")


def test_mask_urls_hides_passwords_and_query_values():
    """Every URL in a text keeps its shape but loses its password and query values."""
    text = "cannot connect to ws://alice:pw1@h:1/ws?token=abc&x=1 then https://h/p"

    assert "cannot connect to ws://alice:***@h:1/ws?token=***&x=*** then https://h/p" == mask_urls(text)


def test_url_secrets_are_the_password_and_query_values():
    """A url target's credentials become secrets, so they are scrubbed even outside a URL."""
    assert ["pw1", "abc", "1"] == url_secrets("ws://alice:pw1@h/ws?token=abc&x=1")


def test_scrub_reaches_every_string_of_a_report():
    """Findings, evidence, check names and reasons, logs and extra data are all scrubbed; enums survive."""
    finding = Finding(code="WC408", message=f"closed: {TOKEN}", evidence=(f"frame {TOKEN}",))
    report = Report(kind="run", target=f"url ws://h/ws?token={TOKEN}")
    report.add(CheckResult("probe", Phase.PROBE, Status.FAILED, findings=(finding,), reason=TOKEN))
    report.extra["ws_url"] = TOKEN

    scrubbed = Secrets([TOKEN]).scrub(report)

    assert TOKEN not in repr(scrubbed)
    assert (Status.FAILED, "WC408") == (scrubbed.checks[0].status, scrubbed.checks[0].findings[0].code)


@settings(max_examples=50)
@given(
    token=st.text(
        alphabet=st.sampled_from(string.ascii_letters + string.digits + "&<>\"'%\\/+= é日"), min_size=8, max_size=24
    )
)
def test_any_token_in_any_form_is_scrubbed(token):
    """Whatever characters a token has, none of its forms survives scrubbing."""
    secrets = Secrets([token])

    for form in forms(token):
        assert form not in secrets.scrub_text(f"x{form}y"), form


def test_mask_urls_keeps_the_punctuation_after_a_url():
    """A URL followed by a colon or a bracket in a message keeps them; only the query value goes."""
    assert "to ws://h:9/ws?token=***: refused (see https://h/x)." == mask_urls(
        "to ws://h:9/ws?token=abc: refused (see https://h/x)."
    )


def test_a_fragment_of_six_characters_is_scrubbed_where_a_text_was_cut():
    """A secret's first six characters or more where the text stops (a cut nobody marked), and its last six or
    more where a text starts (the second of two frames), are scrubbed."""
    secrets = Secrets(["plain-secret-7d1e40c9b2"])

    assert f"reason ({REDACTED}) and {REDACTED} then" == secrets.scrub_text("reason (plain-secr) and 40c9b2 then")


def test_a_fragment_shorter_than_six_characters_is_kept():
    """Five characters of a secret are not enough to scrub: the word 'plain' stays readable."""
    assert "plain text" == Secrets(["plain-secret-7d1e40c9b2"]).scrub_text("plain text")


def test_letter_case_does_not_hide_a_secret():
    """An upper-cased token, and its %-encoding in lower case, are scrubbed."""
    secrets = Secrets([TOKEN])

    assert REDACTED == secrets.scrub_text(TOKEN.upper())
    assert REDACTED == secrets.scrub_text(quote(TOKEN, safe="").lower())


def test_with_values_adds_secrets_and_keeps_the_old_ones():
    """A secret learnt late (a setup step's capture) is scrubbed along with those known before."""
    secrets = Secrets(["first-secret-1234"]).with_values("second-secret-5678", None)

    assert f"{REDACTED} {REDACTED}" == secrets.scrub_text("first-secret-1234 second-secret-5678")


def test_scrub_keeps_frozen_parts_that_hold_no_secret():
    """An unchanged frozen finding comes back as the same object; a changed one as a scrubbed copy."""
    clean = Finding(code="WC402", message="agent_thinking never arrived")
    dirty = Finding(code="WC408", message=f"closed: {TOKEN}")

    scrubbed = Secrets([TOKEN]).scrub([clean, dirty])

    assert scrubbed[0] is clean
    assert f"closed: {REDACTED}" == scrubbed[1].message


def test_a_fragment_that_runs_on_into_a_word_is_not_a_cut():
    """``studio`` of the token ``studio-dev-token`` in ``fixtures/studio_guarded_rename`` is a folder's name, kept."""
    secrets = Secrets(["studio-dev-token"])

    assert "fixtures/faults/studio_guarded_rename/app.py" == secrets.scrub_text(
        "fixtures/faults/studio_guarded_rename/app.py"
    )
    assert f"closed ({REDACTED})" == secrets.scrub_text("closed (studio-de)")
