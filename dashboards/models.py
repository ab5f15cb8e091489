"""Saved reports and dashboards (not built yet)."""
