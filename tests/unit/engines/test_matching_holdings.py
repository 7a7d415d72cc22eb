"""The holdings: which systems hold which component records, filed by label."""

from __future__ import annotations

from ismp.engines.inventory.records import ComponentRecord
from ismp.engines.matching.holdings import Holdings

BASH = ComponentRecord(0, cpe="cpe:2.3:a:gnu:bash:4.3:*:*:*:*:*:*:*")
OPENSSL = ComponentRecord(0, cpe="cpe:2.3:a:openssl:openssl:1.0.1f:*:*:*:*:*:*:*")


def product(record: ComponentRecord) -> frozenset[str]:
    return frozenset({record.cpe.split(":")[4]})


def test_records_are_shared_filed_by_label_and_released_with_their_last_holder() -> None:
    holdings = Holdings(product)
    holdings.replace(1, [(10, BASH.cpe, BASH), (11, OPENSSL.cpe, OPENSSL)])
    holdings.replace(2, [(20, "bash-as-keyed", BASH)])
    assert holdings.labelled(["bash"]) == {BASH}
    assert dict(holdings.holders(BASH)) == {1: BASH.cpe, 2: "bash-as-keyed"}
    assert (holdings.pk(2, "bash-as-keyed"), holdings.pk(2, BASH.cpe)) == (20, None)
    assert (holdings.rows, holdings.last, len(holdings)) == (3, 20, 2)

    holdings.replace(1, [(12, BASH.cpe, BASH)])  # openssl removed from system 1
    assert holdings.labelled(["openssl"]) == set()
    assert set(holdings.records()) == {BASH}
    holdings.replace(2, [])
    assert dict(holdings.holders(BASH)) == {1: BASH.cpe}
    assert (holdings.rows, holdings.last) == (1, 20)
