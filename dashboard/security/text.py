"""The security screens' strings, Chinese first. They join dashboard/i18n.TEXT at import, so t()
and the browser's table have them; kept here so this feature's strings live with its code."""
from __future__ import annotations

from dashboard import i18n

TEXT = {
    "sec_login_title": ("登录", "Sign in"),
    "sec_user": ("用户名", "User name"),
    "sec_password": ("密码", "Password"),
    "sec_login": ("登录", "Sign in"),
    "sec_logout": ("退出", "Sign out"),
    "sec_bad_login": ("用户名或密码错误", "Wrong user name or password"),
    "sec_locked": ("登录失败次数过多，请 {n} 分钟后再试", "Too many failed sign-ins; try again in {n} min"),
    "sec_bad_request": ("请求无效，请刷新页面后重试", "Invalid request; reload the page and try again"),
    "sec_forbidden": ("您无权查看此区域", "This region is outside your scope"),
    "sec_go_home": ("返回我的区域", "Back to my region"),
    "sec_token_invalid": ("大屏令牌无效或已被吊销，请联系管理员", "This screen's token is invalid or revoked; ask an admin"),
    "sec_signed_in_as": ("{name}（{role}）", "{name} ({role})"),
    "sec_role_viewer": ("查看", "viewer"),
    "sec_role_operator": ("值班员", "operator"),
    "sec_role_admin": ("管理员", "admin"),
    "sec_anonymous": ("开发模式：匿名查看", "Dev mode: anonymous viewer"),
    "ack_title": ("确认预警", "Acknowledge warning"),
    "ack_comment": ("处置说明（必填）", "What is being done (required)"),
    "ack_submit": ("确认", "Acknowledge"),
    "ack_done": ("已确认", "Acknowledged"),
    "ack_by": ("{level}预警已由 {user} 于 {at} 确认：{comment}", "{level} warning acknowledged by {user} at {at}: {comment}"),
    "ack_strip": ("已确认预警", "Acknowledged warnings"),
    "ack_failed": ("确认失败：{why}", "Not acknowledged: {why}"),
    "ack_none": ("当前无预警需要确认", "No warning to acknowledge"),
}

i18n.TEXT.update(TEXT)
