"""Run by tests/test_conformance_strict.py in a pytest of its own: one suite per fault.

Not collected with the other tests (its name does not start with ``test_``): each class
here is expected to FAIL the check that its fault breaks.
"""

from docs_plugin.suite import DocsConformance


def _suite(fault: str) -> type[DocsConformance]:
    return type(f"TestBroken_{fault}", (DocsConformance,), {"BROKEN": frozenset({fault})})


FAULTS = ("no_signature", "any_secret", "any_store", "inert_apply", "fixed_ref", "mapping")

for _fault in FAULTS:
    globals()[f"TestBroken_{_fault}"] = _suite(_fault)
