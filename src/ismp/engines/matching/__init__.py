"""Applicability evaluation: NVD configurations × a system's components → :class:`Match` with evidence
and confidence (NISTIR 7696 name matching in :mod:`.names`, the configuration tree in :mod:`.evaluate`)."""

from ismp.engines.matching.evaluate import CONFIDENCE_RANK, Confidence, Match, component_name, evaluate, match_criterion
from ismp.engines.matching.names import Relation, compare_attribute, compare_names, criterion_matches, name_relation

__all__ = [
    "CONFIDENCE_RANK",
    "Confidence",
    "Match",
    "Relation",
    "compare_attribute",
    "compare_names",
    "component_name",
    "criterion_matches",
    "evaluate",
    "match_criterion",
    "name_relation",
]
