"""Assertions on several fields of one object, each expected value next to its field's name."""

from __future__ import annotations


def differences(obj: object, **expected: object) -> dict[str, tuple[object, object]]:
    """{field: (actual, expected)} for each named field of `obj` that is not as expected.

    `assert not differences(refresh, granted=30, lost_to_cap=0)` fails showing the fields that
    differ, by name, where comparing a tuple of fields would show positions.
    """
    actual = {name: getattr(obj, name) for name in expected}
    return {
        name: (actual[name], value) for name, value in expected.items() if actual[name] != value
    }
