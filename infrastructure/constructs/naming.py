"""Construct ids derived from catalogue keys ("audit-anchors" → "AuditAnchors")."""

from __future__ import annotations


def pascal(key: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in key.replace("_", "-").split("-") if part)


def construct_id(kind: str, key: str) -> str:
    return f"{kind}{pascal(key)}"
