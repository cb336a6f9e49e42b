"""WC300: a file that cannot be read, decoded or parsed is reported and skipped.

The finding is made where the file is parsed (`wiringcheck.scan.project.parse_file`),
with severity warning: a file the scan cannot read is not a wiring bug, but the user
must know it was not checked.  Its check is reported as skipped, never as passed, and
the file's names resolve to "unknown" for the other files, so nothing is reported
against it.
"""

from __future__ import annotations

from wiringcheck.scan.engine import Rule

rule = Rule("WC300", __name__)
