"""The guide generator: a pure library. Give it Guide snapshots, get documents back.

No database and no HTTP here (tests/test_architecture.py checks it).
"""

from guides.snapshot import (
    Citation,
    DepartmentRef,
    Faq,
    Fee,
    Guide,
    GuideMaterial,
    Step,
    Venue,
    canonical_json,
    fingerprint,
)

__all__ = [
    "Citation",
    "DepartmentRef",
    "Faq",
    "Fee",
    "Guide",
    "GuideMaterial",
    "Step",
    "Venue",
    "canonical_json",
    "fingerprint",
]
