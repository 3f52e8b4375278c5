"""Row validation: every rejected row keeps where it came from, which field and why.

Rules are vectorised checks over a frame. A row fails on its first broken rule; the good rows
of the same batch go on. Values come in raw from the driver (text, numbers, bytes decoded with
surrogateescape), so wrong types and invalid UTF-8 are caught here, not in the driver.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import numpy as np
import pandas as pd

MAX_TEXT = 4096          # characters; longer text fields are rejected, not truncated
EARLIEST = pd.Timestamp("2000-01-01")


@dataclass(frozen=True)
class Rule:
    field: str
    rule: str                                            # short machine name, e.g. "required"
    broken: Callable[[pd.DataFrame], pd.Series]          # True where the row breaks the rule


_SURROGATE = re.compile("[\udc80-\udcff]")


def _is_text(s: pd.Series) -> bool:
    """A str-dtype column: every value is a str or missing (no bytes, numbers or objects)."""
    return isinstance(s.dtype, pd.StringDtype)


def _has_surrogates(s: pd.Series) -> pd.Series:
    if _is_text(s):   # vectorised; the same answer as the per-value check below
        try:          # strict UTF-8 refuses every surrogate: a clean column is one encode
            "".join(s.dropna().tolist()).encode("utf-8")
        except UnicodeEncodeError:
            return s.str.contains(_SURROGATE, regex=True).fillna(False).astype(bool)
        return pd.Series(False, index=s.index)
    return s.map(lambda v: isinstance(v, str) and _SURROGATE.search(v) is not None)


def _blank(s: pd.Series) -> pd.Series:
    if s.dtype.kind in "biufmM":     # numbers and timestamps are never the empty string
        return s.isna()
    if _is_text(s):
        return s.isna() | (s == "").fillna(False).astype(bool)
    return s.isna() | (s.astype("string") == "")


def required(*fields: str) -> list[Rule]:
    return [Rule(f, "required", lambda df, f=f: _blank(df[f])) for f in fields]


def one_of(field: str, allowed) -> Rule:
    allowed = set(allowed)
    return Rule(field, "one_of", lambda df: df[field].notna() & ~df[field].isin(allowed))


def number(field: str, low: float = -np.inf, high: float = np.inf, optional: bool = False) -> Rule:
    def broken(df):
        raw = df[field]
        num = pd.to_numeric(raw, errors="coerce").astype("float64")
        bad = num.isna() | ~np.isfinite(num.fillna(0)) | (num < low) | (num > high)
        return bad & raw.notna() if optional else bad
    return Rule(field, f"number[{low},{high}]", broken)


def known_code(field: str, codes: pd.Index) -> Rule:
    return Rule(field, "known_code", lambda df: df[field].notna() & ~df[field].isin(codes))


def timestamp(field: str, latest: datetime, optional: bool = False) -> Rule:
    def broken(df):
        raw = df[field]
        ts = to_datetime(raw)
        bad = ts.isna() | (ts < EARLIEST) | (ts > pd.Timestamp(latest))
        return bad & raw.notna() if optional else bad
    return Rule(field, "timestamp", broken)


def text(field: str, max_len: int = MAX_TEXT) -> Rule:
    def broken(df):
        s = df[field]
        if _is_text(s):  # only str values: the type is right, lengths are vectorised
            return (s.str.len() > max_len).fillna(False).astype(bool) | _has_surrogates(s)
        too_long = s.map(lambda v: isinstance(v, (str, bytes)) and len(v) > max_len)
        wrong_type = s.notna() & ~s.map(lambda v: isinstance(v, str))
        return too_long | wrong_type | _has_surrogates(s)
    return Rule(field, f"text[utf8,<={max_len}]", broken)


def to_datetime(raw: pd.Series) -> pd.Series:
    """Parse driver values (datetime objects or ISO text) to timestamps; garbage becomes NaT."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.astype("datetime64[us]")
    return pd.to_datetime(raw.astype("string"), errors="coerce", format="ISO8601").astype("datetime64[us]")


def apply_rules(frame: pd.DataFrame, rules: list[Rule], *, source: str, table: str,
                key: list[str]) -> tuple[pd.DataFrame, list[dict]]:
    """Split a batch into the rows that pass every rule and a reject record per failing row."""
    if frame.empty:
        return frame, []
    failed = pd.Series(False, index=frame.index)
    rejects = []
    for rule in rules:
        try:
            broken = rule.broken(frame).fillna(True).astype(bool)
        except Exception as exc:  # a rule that cannot even be evaluated rejects the rows it saw
            broken = pd.Series(True, index=frame.index)
            detail = f"rule_error:{rule.rule}:{type(exc).__name__}"
        else:
            detail = None
        newly = broken & ~failed
        for idx in frame.index[newly]:
            rejects.append(reject_record(frame.loc[idx], source=source, table=table, key=key,
                                         field=rule.field, rule=detail or rule.rule))
        failed |= broken
    return frame[~failed], rejects


def _short(value) -> str:
    text_value = repr(value) if not isinstance(value, str) else value
    text_value = text_value.encode("utf-8", "backslashreplace").decode("utf-8")
    return text_value if len(text_value) <= 80 else text_value[:77] + "…"


def reject_record(row: pd.Series, *, source: str, table: str, key: list[str], field: str,
                  rule: str) -> dict:
    return {
        "source": source, "table": table,
        "key": "/".join(_short(row.get(k)) for k in key),
        "field": field, "rule": rule, "value": _short(row.get(field)),
    }
