"""The one translation table: Chinese first, English second. Every user-facing string is here."""
from __future__ import annotations

TEXT = {
    "app_title": ("峰巡 · 供电服务指挥中心", "Peakwatch · Service Command Center"),
    "nav_overview": ("总览", "Overview"),
    "load": ("负荷", "Load"),
    "load_mw": ("当前负荷", "Load now"),
    "load_rate": ("负载率", "Load rate"),
    "peak_today": ("今日最高", "Today's peak"),
    "curve_today": ("今日", "Today"),
    "curve_yesterday": ("昨日", "Yesterday"),
    "curve_last_year": ("去年同期", "Same day last year"),
    "repair_today": ("今日抢修工单", "Repair orders today"),
    "repair_last_hour": ("近1小时", "Last hour"),
    "baseline": ("基线", "Baseline"),
    "vs_baseline": ("较基线", "vs baseline"),
    "open_repair": ("在途抢修工单", "Open repair orders"),
    "overdue_arrival": ("到达超时", "Arrival overdue"),
    "outages_active": ("正在停电", "Outages in progress"),
    "outage_customers": ("停电户数", "Customers out"),
    "outage_tareas": ("停电台区", "Transformer areas out"),
    "hourly_orders": ("每小时抢修工单", "Repair orders per hour"),
    "children": ("下级单位", "Below this level"),
    "name": ("名称", "Name"),
    "updated_ago": ("{n}秒前更新", "updated {n} s ago"),
    "updated_min_ago": ("{n}分钟前更新", "updated {n} min ago"),
    "no_data": ("暂无数据", "no data yet"),
    "stale_since": ("数据已过期：{what} 自 {since} 起未更新", "Stale: {what} not updated since {since}"),
    "unreachable": ("服务器无法连接，显示的是最后一次数据（{since}）",
                    "Server unreachable; showing the last data ({since})"),
    "redis_down": ("缓存服务不可用，数据无法刷新", "Cache (Redis) unavailable: data cannot refresh"),
    "unknown_region": ("未知的区域代码：{code}", "Unknown region code: {code}"),
    "level_city": ("地市", "City"),
    "level_district": ("区县", "District"),
    "level_station": ("供电所", "Station"),
    "level_feeder": ("线路", "Feeder"),
    "level_tarea": ("台区", "Transformer area"),
    "unit_mw": ("兆瓦", "MW"),
    "unit_orders": ("单", "orders"),
    "unit_households": ("户", "customers"),
    "unit_count": ("个", ""),
    "feeders_reporting": ("{n}/{total} 条线路上报", "{n}/{total} feeders reporting"),
    "dataset_load": ("负荷", "load"),
    "dataset_orders": ("工单", "orders"),
    "dataset_outages": ("停电", "outages"),
    "language": ("English", "中文"),
    # ---- service warnings (issue 4) ----
    "warnings_title": ("服务预警", "Service warnings"),
    "warn_level_none": ("无预警", "No warning"),
    "warn_level_yellow": ("黄色预警", "Yellow warning"),
    "warn_level_orange": ("橙色预警", "Orange warning"),
    "warn_level_red": ("红色预警", "Red warning"),
    "warn_reasons": ("预警原因（{n}）", "Reasons ({n})"),
    "warn_no_reason": ("各项指标均未达到预警阈值", "No dimension reaches a threshold"),
    "warn_assumed": ("（假定阈值）", " (assumed threshold)"),
    "warn_since": ("{t} 起", "since {t}"),
    "warn_pending": ("待定：{level}（已连续{n}次）", "Pending: {level} ({n} in a row)"),
    "warn_season_gate": ("非迎峰度夏季节（6–10月），不发布预警", "Out of season (June–October): no warnings"),
}

DEFAULT_LANG = "zh"


def t(key: str, lang: str = DEFAULT_LANG, **values) -> str:
    zh, en = TEXT[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def table(lang: str) -> dict[str, str]:
    """The whole table in one language, for clientside code."""
    return {k: (v[1] if lang == "en" else v[0]) for k, v in TEXT.items()}


def number(value, lang: str = DEFAULT_LANG, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def percent(value, lang: str = DEFAULT_LANG, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"
