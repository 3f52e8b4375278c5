"""Collectors: poll the source systems, validate, aggregate with pandas, publish to Redis.

Kept import-light: the dashboard imports `collectors.redis_keys` and must not pull in the scheduler.
"""
