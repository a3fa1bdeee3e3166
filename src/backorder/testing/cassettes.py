"""The one cassette convention for plugin tests (vcrpy).

- **Replay only in tests**: ``record_mode="none"``. A request the cassette does not hold
  fails the test; nothing is recorded by accident, and no test reaches a network.
- **Re-recording** is explicit: ``BACKORDER_RECORD_CASSETTES=1 pytest plugins/NAME``
  (record mode ``all``: every request the test makes is sent to the live sandbox, and the
  cassette is written afresh with exactly those interactions).
- **Matching** on method, path, query and body: the host is left out, so a cassette
  recorded from a sandbox on any port replays for any base URL.
- **Credentials never reach a cassette**: the headers of :data:`CREDENTIAL_HEADERS` and
  the query parameters of :data:`backorder.http.errors.CREDENTIAL_PARAMS` are filtered
  out when recording.

Cassettes are for plain request/response recordings (and checking them against a
platform's OpenAPI files). Tests of faults, retries and rate limits run against the live
in-process sandbox instead: a cassette replays the recorded answers whatever fault the
test sets up, so it cannot tell whether the retry logic works.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import vcr
from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister

from backorder.http.errors import CREDENTIAL_PARAMS

RECORD_ENV = "BACKORDER_RECORD_CASSETTES"
MATCH_ON = ("method", "path", "query", "body")
CREDENTIAL_HEADERS = ("authorization", "x-auth-token", "x-api-key", "cookie", "set-cookie")


def recording() -> bool:
    """Whether this run re-records cassettes (``BACKORDER_RECORD_CASSETTES=1``)."""
    return os.environ.get(RECORD_ENV, "") not in ("", "0")


class _Afresh(FilesystemPersister):
    """Recording starts from an empty cassette: the old one is neither replayed nor kept."""

    @classmethod
    def load_cassette(cls, cassette_path, serializer):
        raise CassetteNotFoundError()


def recorder(directory: str | Path, *, secret_headers: Iterable[str] = ()) -> vcr.VCR:
    """A vcrpy ``VCR`` with the convention above for the cassettes in ``directory``."""
    configured = vcr.VCR(
        cassette_library_dir=str(directory),
        record_mode="all" if recording() else "none",
        match_on=list(MATCH_ON),
        filter_headers=[*CREDENTIAL_HEADERS, *(h.lower() for h in secret_headers)],
        filter_query_parameters=sorted(CREDENTIAL_PARAMS),
        decode_compressed_response=True,
    )
    if recording():
        configured.register_persister(_Afresh)
    return configured
