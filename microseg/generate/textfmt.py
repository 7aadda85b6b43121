"""Vectorised text building: ids, timestamps, dates and money amounts.

Everything here turns numpy integer arrays into ``pyarrow.StringArray`` columns
without per-row Python work. Fixed-width pieces are gathered from small lookup
tables as machine words and assembled into a byte matrix that becomes the data
buffer of a StringArray (zero copy); variable-width values are right-padded with
spaces and trimmed by a pyarrow kernel.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY = 86_400

# Timestamp styles (per row codes for ``format_ts``).
TS_UTC_Z = 0  # 2026-03-01T09:15:00Z
TS_BERLIN_T = 1  # 2026-03-01T10:15:00+01:00 (CET/CEST offset of that instant)
TS_BERLIN_SPACE = 2  # 2026-03-01 10:15:00+01:00
TS_NEWYORK_SPACE = 3  # 2026-03-01 04:15:00-05:00 (fixed -05:00, no DST)
TS_NAIVE_UTC = 4  # 2026-03-01 09:15:00 (no offset = UTC per the contract)

_TS_BASE_DAY = int(np.datetime64("2000-01-01", "D").astype(np.int64))
_TS_N_DAYS = 40 * 366
_SUFFIXES = (b"Z", b"+01:00", b"+02:00", b"-05:00", b"")
_DATE_BASE_DAY = int(np.datetime64("1900-01-01", "D").astype(np.int64))
_DATE_N_DAYS = 150 * 366


# --------------------------------------------------------------------------- #
# small helpers
# --------------------------------------------------------------------------- #
def _words(strings: list[bytes], width: int = 8) -> np.ndarray:
    """Pack equal-width byte strings into an unsigned int array (one word each)."""
    dtype = {8: "<u8", 4: "<u4", 2: "<u2", 1: "u1"}[width]
    buf = b"".join(s.ljust(width, b" ")[:width] for s in strings)
    return np.frombuffer(buf, dtype=dtype).copy()


def _validity(null: np.ndarray | None) -> pa.Buffer | None:
    """Arrow validity bitmap (1 = valid) for rows that are not in ``null``."""
    if null is None or not np.any(null):
        return None
    return pa.py_buffer(np.packbits(~np.asarray(null, dtype=bool), bitorder="little"))


def _assemble(mat: np.ndarray, null: np.ndarray | None = None, trim: str | None = None) -> pa.Array:
    """StringArray from a (n, w) byte matrix; rows in ``null`` become null and
    with ``trim`` ('r' or 'l') space padding is removed."""
    n, w = mat.shape
    offsets = np.arange(0, n * w + 1, w, dtype=np.int64)
    validity = _validity(null)
    if n * w < 2**31 - 1:
        arr = pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(mat), validity)
    else:
        arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(mat), validity)
    if trim == "r":
        arr = _rtrim(arr)
    elif trim == "l":
        arr = _ltrim(arr)
    return arr.cast(pa.string()) if arr.type != pa.string() else arr


def _pool_matrix(values: tuple[str, ...], width: int, align: str = "left") -> np.ndarray:
    """(k, width) space-padded byte matrix of short strings."""
    rows = []
    for v in values:
        b = v.encode()[:width]
        rows.append(b.ljust(width, b" ") if align == "left" else b.rjust(width, b" "))
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(values), width).copy()


def _rtrim(arr: pa.Array) -> pa.Array:
    return pc.utf8_rtrim(arr, " ")


def _ltrim(arr: pa.Array) -> pa.Array:
    return pc.utf8_ltrim(arr, " ")


def scramble(x: np.ndarray, modulus: int, mult: int, add: int) -> np.ndarray:
    """Bijective affine map of [0, modulus): ``(x * mult + add) % modulus``.

    ``mult`` must be coprime with ``modulus``; used to turn running counters into
    unique ids that do not reveal creation order or person grouping.
    """
    x = np.asarray(x, dtype=np.int64)
    if len(x) and int(x.max()) * mult >= 2**63 and modulus & (modulus - 1):
        raise OverflowError("id counter too large for this id layout")
    return (x % modulus * mult + add) % modulus


# --------------------------------------------------------------------------- #
# ids
# --------------------------------------------------------------------------- #
@cache
def _digit4() -> np.ndarray:
    return _words([b"%04d" % i for i in range(10_000)], 4)


def fixed_ids(
    prefix: str, values: np.ndarray, width: int, null: np.ndarray | None = None, blank: np.ndarray | None = None
) -> pa.StringArray:
    """``prefix`` + zero-padded ``values`` with exactly ``width`` digits.

    Rows where ``null`` is true become null, rows where ``blank`` is true ''."""
    values = np.asarray(values, dtype=np.int64)
    n = len(values)
    p = prefix.encode()
    ngroups = -(-width // 4)
    padw = ngroups * 4
    tab = _digit4()
    v = values.copy()
    body = np.empty((n, ngroups), dtype="<u4")
    for g in range(ngroups - 1, -1, -1):
        body[:, g] = tab[v % 10_000]
        v //= 10_000
    mat = np.empty((n, len(p) + width), dtype=np.uint8)
    mat[:, : len(p)] = np.frombuffer(p, dtype=np.uint8)
    mat[:, len(p) :] = body.view(np.uint8).reshape(n, padw)[:, padw - width :]
    trim = None
    if blank is not None and np.any(blank):
        mat[np.asarray(blank, dtype=bool)] = ord(" ")
        trim = "r"
    return _assemble(mat, null, trim)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_ids(prefix: str, values: np.ndarray, width: int) -> pa.StringArray:
    """``prefix`` + lower-case hex of ``values`` with exactly ``width`` digits."""
    values = np.asarray(values, dtype=np.uint64)
    n = len(values)
    p = prefix.encode()
    mat = np.empty((n, len(p) + width), dtype=np.uint8)
    mat[:, : len(p)] = np.frombuffer(p, dtype=np.uint8)
    v = values.copy()
    for k in range(width - 1, -1, -1):
        mat[:, len(p) + k] = _HEX[(v & np.uint64(15)).astype(np.intp)]
        v >>= np.uint64(4)
    return _assemble(mat)


def int_strings(values: np.ndarray) -> pa.Array:
    """Plain decimal text of integers (``pc.cast``)."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


# --------------------------------------------------------------------------- #
# time zones
# --------------------------------------------------------------------------- #
@cache
def _berlin_dst_bounds() -> tuple[np.ndarray, np.ndarray]:
    """UTC epoch seconds of CEST start/end (last Sunday of Mar/Oct, 01:00 UTC)."""
    starts, ends = [], []
    for year in range(1990, 2060):
        for month, out in ((3, starts), (10, ends)):
            last = np.datetime64(f"{year}-{month + 1:02d}-01", "D") - 1
            dow = (last.astype(np.int64) + 3) % 7  # 0 = Monday
            sunday = last - ((dow - 6) % 7)
            out.append(sunday.astype(np.int64) * DAY + 3600)
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


@cache
def _berlin_day_table() -> tuple[int, np.ndarray, np.ndarray]:
    """Per UTC day: Berlin offset before and from 01:00 UTC (DST switches at 01:00 UTC)."""
    starts, ends = _berlin_dst_bounds()
    first_day = int(starts[0] // DAY) - 100
    days = np.arange(first_day, int(ends[-1] // DAY) + 100, dtype=np.int64)
    out = []
    for sec in (days * DAY, days * DAY + 3600):
        i = np.clip(np.searchsorted(starts, sec, side="right") - 1, 0, len(starts) - 1)
        out.append(np.where((sec >= starts[i]) & (sec < ends[i]), 7200, 3600).astype(np.int64))
    return first_day, out[0], out[1]


def berlin_offset(secs: np.ndarray) -> np.ndarray:
    """UTC offset in seconds (3600 or 7200) of Europe/Berlin at the UTC instants."""
    first_day, before, after = _berlin_day_table()
    secs = np.asarray(secs, dtype=np.int64)
    day = secs // DAY - first_day
    return np.where(secs % DAY >= 3600, after[day], before[day])


def local_to_utc_berlin(local_secs: np.ndarray) -> np.ndarray:
    """Convert Berlin wall-clock seconds to UTC (ambiguous hour resolved arbitrarily)."""
    local_secs = np.asarray(local_secs, dtype=np.int64)
    return local_secs - berlin_offset(local_secs - 3600)


# --------------------------------------------------------------------------- #
# timestamps
# --------------------------------------------------------------------------- #
@cache
def _ts_tables() -> dict[str, np.ndarray]:
    days = np.arange(_TS_BASE_DAY, _TS_BASE_DAY + _TS_N_DAYS).astype("datetime64[D]")
    iso = [s.encode() for s in np.datetime_as_string(days)]
    ymd = _words([s[:8] for s in iso])  # 'YYYY-MM-'
    dom = np.array([int(s[8:10]) for s in iso], dtype=np.int64)
    # 'DD' + sep + 'HH:MM' keyed by ((dom - 1) * 2 + sep) * 1440 + minute
    b = []
    for d in range(1, 32):
        for sep in (b"T", b" "):
            for m in range(1440):
                b.append(b"%02d%s%02d:%02d" % (d, sep, m // 60, m % 60))
    ddhhmm = _words(b)
    # ':SS' + first 5 bytes of suffix keyed by sec * nsuf + suffix
    c = [b":%02d%s" % (s, suf.ljust(6)[:5]) for s in range(60) for suf in _SUFFIXES]
    sec_suf = _words(c)
    tail = _words([suf.ljust(6)[5:6] for suf in _SUFFIXES])
    return {"ymd": ymd, "dom": dom, "ddhhmm": ddhhmm, "sec_suf": sec_suf, "tail": tail}


def format_ts(
    secs: np.ndarray,
    style: np.ndarray | int = TS_UTC_Z,
    bad_rows: np.ndarray | None = None,
    bad_values: tuple[str, ...] = (),
    rng: np.random.Generator | None = None,
) -> pa.StringArray:
    """Format UTC epoch seconds as ISO-8601 text in the given per-row styles.

    Styles: TS_UTC_Z, TS_BERLIN_T, TS_BERLIN_SPACE, TS_NEWYORK_SPACE, TS_NAIVE_UTC.
    The instant is preserved: local wall-clock time plus the matching offset.
    Rows in ``bad_rows`` get a random value of ``bad_values`` (unparseable text)
    instead.
    """
    secs = np.asarray(secs, dtype=np.int64)
    n = len(secs)
    style = np.broadcast_to(np.asarray(style, dtype=np.int8), (n,))
    t = _ts_tables()
    berlin = (style == TS_BERLIN_T) | (style == TS_BERLIN_SPACE)
    offset = np.zeros(n, dtype=np.int64)
    suffix = np.zeros(n, dtype=np.int64)  # index into _SUFFIXES
    if berlin.any():
        off = berlin_offset(secs[berlin])
        offset[berlin] = off
        suffix[berlin] = np.where(off == 7200, 2, 1)
    ny = style == TS_NEWYORK_SPACE
    offset[ny] = -5 * 3600
    suffix[ny] = 3
    suffix[style == TS_NAIVE_UTC] = 4
    local = secs + offset
    day = local // DAY - _TS_BASE_DAY
    if n and (day.min() < 0 or day.max() >= _TS_N_DAYS):
        raise ValueError("timestamp outside the supported range 2000-2039")
    sod = local % DAY
    sep = (style != TS_UTC_Z) & (style != TS_BERLIN_T)
    words = np.empty((n, 4), dtype="<u8")
    words[:, 0] = t["ymd"][day]
    words[:, 1] = t["ddhhmm"][((t["dom"][day] - 1) * 2 + sep) * 1440 + sod // 60]
    words[:, 2] = t["sec_suf"][(sod % 60) * len(_SUFFIXES) + suffix]
    words[:, 3] = t["tail"][suffix]
    mat = words.view(np.uint8).reshape(n, 32)
    has_bad = bad_rows is not None and len(bad_rows) > 0
    if has_bad:
        pool = _pool_matrix(bad_values, 32)
        mat[bad_rows] = pool[rng.integers(0, len(bad_values), len(bad_rows))]
    lengths = np.array([19 + len(s) for s in _SUFFIXES])[suffix]
    if n and not has_bad and (lengths == lengths[0]).all():
        return _assemble(np.ascontiguousarray(mat[:, : lengths[0]]))
    return _assemble(mat, trim="r")


# --------------------------------------------------------------------------- #
# dates
# --------------------------------------------------------------------------- #
DATE_ISO = 0  # 1990-04-17
DATE_DMY = 1  # 17/04/1990


@cache
def _date_tables() -> tuple[np.ndarray, np.ndarray]:
    days = np.arange(_DATE_BASE_DAY, _DATE_BASE_DAY + _DATE_N_DAYS).astype("datetime64[D]")
    iso = np.datetime_as_string(days).astype("S10")
    raw = np.frombuffer(iso.tobytes(), dtype=np.uint8).reshape(-1, 10)
    dmy = np.empty_like(raw)
    dmy[:, 0:2] = raw[:, 8:10]
    dmy[:, 2] = ord("/")
    dmy[:, 3:5] = raw[:, 5:7]
    dmy[:, 5] = ord("/")
    dmy[:, 6:10] = raw[:, 0:4]
    return raw.copy(), dmy


def format_date(days: np.ndarray, style: int = DATE_ISO) -> pa.StringArray:
    """Format days since 1970-01-01 as 'YYYY-MM-DD' (DATE_ISO) or 'DD/MM/YYYY' (DATE_DMY)."""
    iso, dmy = _date_tables()
    idx = np.asarray(days, dtype=np.int64) - _DATE_BASE_DAY
    tab = iso if style == DATE_ISO else dmy
    return _assemble(np.ascontiguousarray(tab[idx]))


# --------------------------------------------------------------------------- #
# money
# --------------------------------------------------------------------------- #
@cache
def _digit2() -> np.ndarray:
    return _words([b"%02d" % i for i in range(100)], 2)


def format_cents(
    cents: np.ndarray,
    comma_rows: np.ndarray | None = None,
    text_rows: np.ndarray | None = None,
    text_values: tuple[str, ...] = (),
    rng: np.random.Generator | None = None,
    prefix_rows: np.ndarray | None = None,
    prefix: str = "",
) -> pa.StringArray:
    """Format integer cents as a decimal with two places: 1999 -> '19.99', -450 -> '-4.50'.

    Dirt options: ``comma_rows`` get a decimal comma ('19,99'), ``prefix_rows``
    get ``prefix`` in front of the number, ``text_rows`` a random ``text_values``.
    """
    cents = np.asarray(cents, dtype=np.int64)
    n = len(cents)
    neg = cents < 0
    a = np.abs(cents)
    whole = a // 100
    if n and whole.max() >= 10**9:
        raise ValueError("amount too large")
    width = 16  # [sign/space] + 10 integer digits + '.' + 2 + pad to 16
    pairs = np.empty((n, 8), dtype="<u2")
    d2 = _digit2()
    pairs[:, 7] = d2[a % 100]
    w = whole.copy()
    for k in (6, 5, 4, 3, 2):  # 10 integer digits as five pairs in cols 2..6
        pairs[:, k] = d2[w % 100]
        w //= 100
    mat = pairs.view(np.uint8).reshape(n, width)
    # layout: cols 0-3 spare, 4-13 integer digits, 14-15 cents; insert '.' by shifting
    out = np.empty((n, width + 1), dtype=np.uint8)
    out[:, :14] = mat[:, :14]
    out[:, 14] = ord(".")
    out[:, 15:17] = mat[:, 14:16]
    ndig = np.ones(n, dtype=np.int64)
    for k in range(1, 10):
        ndig += whole >= 10**k
    first = 14 - ndig  # column of the first integer digit
    col = np.arange(14)[None, :]
    out[:, :14][col < first[:, None]] = ord(" ")
    rows = np.nonzero(neg)[0]
    out[rows, first[rows] - 1] = ord("-")
    if comma_rows is not None and len(comma_rows):
        out[comma_rows, 14] = ord(",")
    if prefix_rows is not None and len(prefix_rows):
        pb = np.frombuffer(prefix.encode(), dtype=np.uint8)
        start = first[prefix_rows] - neg[prefix_rows] - len(pb)
        for k in range(len(pb)):
            out[prefix_rows, start + k] = pb[k]
    if text_rows is not None and len(text_rows):
        out[text_rows] = _pool_matrix(text_values, width + 1, "right")[
            rng.integers(0, len(text_values), len(text_rows))
        ]
    return _assemble(out, trim="l")


# --------------------------------------------------------------------------- #
# generic string helpers
# --------------------------------------------------------------------------- #
def pool_take(pool, idx: np.ndarray) -> pa.Array:
    """Take strings from a small pool (list or pa.Array) by integer index."""
    if not isinstance(pool, pa.Array):
        pool = pa.array(list(pool), type=pa.string())
    return pool.take(pa.array(np.asarray(idx, dtype=np.int64)))


def join(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays / scalars with no separator."""
    return pc.binary_join_element_wise(*parts, "")


def mask_replace(arr: pa.Array, mask: np.ndarray, values) -> pa.Array:
    """Replace rows where ``mask`` is true with ``values`` (array aligned to the masked rows, or None for null)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return arr
    if values is None:
        values = pa.nulls(int(mask.sum()), type=pa.string())
    elif not isinstance(values, pa.Array):
        values = pa.array(list(values), type=pa.string())
    return pc.replace_with_mask(arr, pa.array(mask), values)
