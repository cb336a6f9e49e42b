"""The runtime check's run: one session that every entry point drives, and one judge.

    request (auth, setup steps, trigger, bounds) ──► transport ──► session.receive(...) ──► Recording
                                                        ▲  to_send / wake_at / done
    judge(recording, expectation) ──► rules/* ──► findings

- pure: `recording` (the data every rule reads), `identity` (whose run is this),
  `request`, `setup` (the setup steps, sans-I/O), `session` (the run, sans-I/O),
  `judge` and `rules/` (one module per rule);
- I/O: `transports/` (drivers of the session, one per wire format), `drive` (one whole
  run: setup steps, request, session, transport), `inprocess` (runs against a backend
  booted in this process).

`run`, `probe`, the pytest plugin, `load`, the Locust user, `inspect` and `init` all make
their runs through `drive` (in-process ones through `inprocess`) and judge them with
`judge`: a feature added here reaches every entry point the same day.
"""
