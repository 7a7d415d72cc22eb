from __future__ import annotations

import pytest

from ismp.engines.severity import attack_vector, risk_level, risk_level_from_word


@pytest.mark.parametrize(
    ("score", "level"),
    [(None, 1), (0.0, 1), (0.1, 2), (3.9, 2), (4.0, 3), (6.9, 3), (7.0, 4), (8.9, 4), (9.0, 5), (10.0, 5)],
)
def test_design_thresholds(score, level):
    assert risk_level(score) == level


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "NETWORK"),
        ("AV:L/AC:L/Au:N/C:C/I:C/A:C", "LOCAL"),
        ("CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "ADJACENT_NETWORK"),
        ("CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "PHYSICAL"),
        ("", ""),
    ],
)
def test_attack_vector(vector, expected):
    assert attack_vector(vector) == expected


def test_words():
    assert (
        risk_level_from_word("緊急") == 5 and risk_level_from_word("Moderate") == 3 and risk_level_from_word("?") == 1
    )
