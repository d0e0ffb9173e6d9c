"""The maxima of the API's parameters that are not a domain rule of their own (docs/api.md, "Limits of
every parameter"). Beyond a maximum a request is a 422 in the error shape — never a value handed to the
database, where an integer past 64 bits is a 500."""

from __future__ import annotations

# A page is at most this many rows, and starts at most this far in (deeper reading: narrow the filter).
MAX_PAGE_SIZE = 500
MAX_OFFSET = 1_000_000
# Row ids (alerts, quarantined events): the database's 64-bit signed range.
MAX_ID = 2**63 - 1
