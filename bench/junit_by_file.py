"""Summed test time (setup + call + teardown) per package and per file of a JUnit report.

    .venv/bin/pytest -n 2 --dist loadfile --no-loadscope-reorder --junitxml=test-output/run.xml
    .venv/bin/python bench/junit_by_file.py test-output/run.xml [how many files, 25]

On a machine shared with other work the wall time follows the load; the per-file sums of two
reports made at a similar load compare the work itself (issue 15 goal 4, bench/RESULTS.md).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict


def file_of(classname: str) -> str:
    """tests.ledger.test_jobs (or tests.ledger.test_jobs.SomeClass) → tests/ledger/test_jobs.py"""
    parts = [part for part in classname.split(".") if not part[:1].isupper()]
    return "/".join(parts) + ".py"


def main(path: str, shown: int) -> None:
    seconds: defaultdict[str, float] = defaultdict(float)
    tests: Counter[str] = Counter()
    slowest: list[tuple[float, str]] = []
    # The report is our own pytest run's, not untrusted input.
    for case in ET.parse(path).iter("testcase"):  # noqa: S314
        name = file_of(case.get("classname", ""))
        took = float(case.get("time", "0"))
        seconds[name] += took
        tests[name] += 1
        slowest.append((took, f"{name}::{case.get('name')}"))
    print(f"all files: {sum(seconds.values()):,.0f} s, {sum(tests.values())} tests")
    packages: defaultdict[str, float] = defaultdict(float)
    for name, took in seconds.items():
        packages["/".join(name.split("/")[:2])] += took
    for package, took in sorted(packages.items(), key=lambda item: -item[1]):
        print(f"{took:8.0f}  {package}")
    print()
    for name, took in sorted(seconds.items(), key=lambda item: -item[1])[:shown]:
        print(f"{took:8.1f} {tests[name]:5d}  {name}")
    print()
    for took, test in sorted(slowest, reverse=True)[:shown]:
        print(f"{took:8.1f}  {test}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25)
