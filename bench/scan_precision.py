"""Precision of `wiringcheck scan`: scan well-tested, correct code; every finding is presumed false.

Prints the number of findings per package and per code, then each finding, so each one
left can be explained (or fixed) in docs/scan.md.

    python bench/scan_precision.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_corpus import PACKAGES, count_lines, make_corpus

from wiringcheck.scan import scan_paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None, help="reuse this corpus folder")
    parser.add_argument("--packages", default=",".join(PACKAGES), help="comma-separated installed packages")
    parser.add_argument("--extra", type=Path, action="append", default=[], help="a folder of applications to add")
    args = parser.parse_args(argv)
    packages = tuple(name for name in args.packages.split(",") if name)
    root = args.corpus or make_corpus(
        Path(tempfile.mkdtemp(prefix="wiringcheck-precision-")) / "corpus", packages, extra=args.extra
    )
    counts = count_lines(root)
    packages = tuple(counts)
    started = time.perf_counter()
    report = scan_paths([root], root=root, cache=False)
    elapsed = time.perf_counter() - started

    by_package: Counter[str] = Counter()
    by_code: Counter[str] = Counter()
    for finding in report.findings:
        package = finding.location.path.split("/")[0] if finding.location else "?"
        by_package[package] += 1
        by_code[finding.code] += 1
    print(f"{'package':12} {'lines':>8} {'findings':>9}")
    for name in packages:
        print(f"{name:12} {counts.get(name, 0):>8,} {by_package.get(name, 0):>9}")
    print(f"{'total':12} {sum(counts.values()):>8,} {len(report.findings):>9}   ({elapsed:.1f}s)")
    if by_code:
        print("by code: " + ", ".join(f"{code} {n}" for code, n in sorted(by_code.items())))
    for finding in report.findings:
        print(f"  {finding.oneline()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
