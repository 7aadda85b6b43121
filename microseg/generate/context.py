"""Run-wide state shared by the chunks: calendar, seeds, id counters, used emails.

Chunks are generated in order; the only state carried from one chunk to the
next is the running id counters and the set of emails already handed out, both
of which depend only on the run arguments, so output is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import Calendar

# id layouts: prefix, digits, modulus multiplier (coprime with 10), additive offset
ID_CRM_A = ("A", 8, 7_346_611, 10_486_421)
ID_CRM_B = ("B", 8, 5_128_253, 31_337_113)
ID_ORDER = ("O", 9, 387_420_489, 12_345_679)
ID_LINE = ("L", 10, 1_220_703_133, 271_828_183)
ID_EVENT = ("E", 11, 2_147_483_647, 31_415_926_535)
ID_SESSION = ("S", 11, 1_073_741_827, 27_182_818_284)
ANON_MULT, ANON_ADD = 0x9E3779B97F, 0x5DEECE66D  # odd multiplier -> bijection mod 2**40

# streams of the per-chunk seed sequence, one per concern
STREAMS = ("people", "crm", "purchases", "orders", "events", "enrichment", "erasure", "campaigns")


@dataclass
class RunContext:
    seed: int
    persons_total: int
    cal: Calendar
    counters: dict[str, int] = field(
        default_factory=lambda: {
            "order": 0,
            "line": 0,
            "event": 0,
            "session": 0,
            "request": 0,
            "unknown_ref": 0,
            "unmatched_email": 0,
            "orphan_order": 0,
        }
    )
    _used_emails: pa.Array = field(default_factory=lambda: pa.array([], type=pa.string()))

    def rng(self, chunk: int, stream: str) -> np.random.Generator:
        """PCG64 generator for one concern of one chunk (SeedSequence spawn key)."""
        ss = np.random.SeedSequence(self.seed, spawn_key=(chunk, STREAMS.index(stream)))
        return np.random.Generator(np.random.PCG64(ss))

    def take_ids(self, kind: str, n: int) -> np.ndarray:
        """Reserve n consecutive values of a running counter."""
        start = self.counters[kind]
        self.counters[kind] = start + int(n)
        return np.arange(start, start + int(n), dtype=np.int64)

    def email_taken(self, emails: pa.Array) -> np.ndarray:
        """Which of these (normalised) emails were handed out by earlier chunks."""
        if len(self._used_emails) == 0:
            return np.zeros(len(emails), dtype=bool)
        return pc.is_in(emails, value_set=self._used_emails).to_numpy(zero_copy_only=False)

    def register_emails(self, emails: pa.Array) -> None:
        self._used_emails = pa.concat_arrays([self._used_emails, emails.cast(pa.string())])
