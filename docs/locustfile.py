"""A locustfile for the reference backend: each Locust user runs wiringcheck's probe in a loop.

    pip install 'wiringcheck[load]'
    uvicorn --factory fixtures.agentchat.app:create_app --port 8765 &
    locust -f docs/locustfile.py --host ws://127.0.0.1:8765/ws --headless -u 200 -r 50 -t 30s --csv load

Each user has its own test token (``[tool.wiringcheck.load] token = "load-token-{n}"`` in this
repository's pyproject.toml; the reference backend accepts them), so the backend routes each
user's runs to that user alone. Distributed: the same file on every machine, ``--master`` on
one and ``--worker --master-host HOST`` on the others. Locust's statistics then show one row
per event (its delivery latency), and failures named after the event with the finding's code
(``WC402 event missing``).
"""

from __future__ import annotations

from wiringcheck.locust import WiringcheckUser


class AgentChatUser(WiringcheckUser):
    """One chat user: the [tool.wiringcheck] configuration of this repository's pyproject.toml."""

    config = "pyproject.toml"
