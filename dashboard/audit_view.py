"""The 逢停必较 audit and frequent-outage 台区 on the outages page: the month's reporting rates,
and each finding with its evidence (the meter and breaker events, and the report or its absence)."""
from __future__ import annotations

from dash import html

from dashboard import components as c
from dashboard import scope
from dashboard.grid import rows_for
from dashboard.i18n import label, number, percent, t

EVIDENCE_SHOWN = 3
FINDINGS = [("start", "start_at", "time"), ("equipment_name", "equipment", "text"), ("kind_label", "equipment_type", "text"),
            ("flags_label", "audit_flags", "text"), ("duration_min", "duration_min", "dec1"),
            ("report_delay_min", "report_delay_min", "dec1"), ("scope_text", "audit_scope", "text"),
            ("report_text", "audit_report", "text"), ("evidence", "audit_evidence", "text")]
FREQUENT = [("tarea_name", "level_tarea", "text"), ("outages_30d", "outages_30d", "int"),
            ("outages_60d", "outages_60d", "int"), ("level_label", "frequent_level", "text")]


def month_kpis(a: dict | None, lang: str):
    m = (a or {}).get("month")
    if not m:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [c.big(number(m.get("unreported"), lang), t("audit_unreported", lang)),
            c.line(t("audit_late", lang), number(m.get("late"), lang)),
            c.line(t("audit_irregular", lang), number(m.get("irregular"), lang)),
            c.line(t("audit_must_report", lang), number(m.get("must_report"), lang)),
            c.line(t("audit_completeness", lang), percent(m.get("completeness"), lang)),
            c.line(t("audit_timeliness", lang), percent(m.get("timeliness"), lang)),
            c.line(t("audit_accuracy", lang), percent(m.get("accuracy"), lang)),
            html.Div(t("audit_pending", lang, n=(a or {}).get("pending", 0)), className="pw-note")]


def _evidence(f: dict, lang: str) -> str:
    shown = [f'{e["ts"][11:19]} {e.get("code", "")} {label("event", e.get("event"), lang)}'
             for e in (f.get("events") or [])[:EVIDENCE_SHOWN]]
    return "；".join(shown) + t("audit_events_total", lang, n=f.get("events_total", 0))


def _report(f: dict, lang: str) -> str:
    r = f.get("report")
    if not r:
        return t("audit_no_report", lang)
    return t("audit_reported", lang, id=r["outage_id"], at=(r.get("reported_at") or "")[11:16],
             etr=(r.get("etr") or "—")[11:16])


def _scope(f: dict, lang: str) -> str:
    return t("audit_scope_text", lang, obs=number(f.get("observed_tareas"), lang),
             rep=number(f.get("reported_tareas"), lang), obs_c=number(f.get("observed_customers"), lang),
             rep_c=number(f.get("reported_customers"), lang))


def finding_rows(view: scope.View) -> list[dict]:
    found = scope.listing(view, "audit", "findings", "equipment")
    names = {n["code"]: n["name"] for n in scope.named(view.store, sorted({f["equipment"] for f in found}))}
    lang = view.lang
    sep = "、" if lang == "zh" else ", "
    rows = [{**f, "equipment_name": names.get(f["equipment"], f["equipment"]),
             "kind_label": label("kind", f.get("kind"), lang),
             "flags_label": sep.join(label("flag", x, lang) for x in f.get("flags", [])),
             "scope_text": _scope(f, lang), "report_text": _report(f, lang), "evidence": _evidence(f, lang)}
            for f in found]
    return rows_for(rows, "equipment", "case_id")


def frequent_rows(view: scope.View) -> list[dict]:
    found = scope.listing(view, "frequent_outages")
    names = {n["code"]: n["name"] for n in scope.named(view.store, sorted({f["tarea_code"] for f in found}))}
    rows = [{**f, "tarea_name": names.get(f["tarea_code"], f["tarea_code"]),
             "level_label": label("frequent", f.get("level"), view.lang)} for f in found]
    return rows_for(rows, "tarea_code", "tarea_code")
