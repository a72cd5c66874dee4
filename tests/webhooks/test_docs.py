"""docs/webhooks.md's verification example works on a real delivery's signature."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from ledger.webhooks.signing import signature

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_verify() -> Any:
    [code] = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(code.strip().splitlines()) <= 10
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - the documentation's own example
    return namespace["verify"]


def test_the_documented_example_accepts_a_good_signature_and_refuses_the_rest() -> None:
    verify = documented_verify()
    body = b'{"id":"x","type":"inmail.sent"}'
    now = int(time.time())
    header = signature("whsec_abc", now, body)

    assert verify("whsec_abc", header, body) is True
    assert verify("whsec_other", header, body) is False
    assert verify("whsec_abc", header, body + b" ") is False
    assert verify("whsec_abc", signature("whsec_abc", now - 301, body), body) is False
    assert verify("whsec_abc", "t=abc,v1=00", body) is False
