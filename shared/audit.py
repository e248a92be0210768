"""The audit trail: every configuration change, by whom. Callers pass no secret values."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared.ids import new_id
from shared.models import AuditEntry


def record(
    session: Session,
    *,
    token_id: str | None,
    action: str,
    target_type: str,
    target_id: str | None,
    instance_id: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            id=new_id("aud"),
            instance_id=instance_id,
            token_id=token_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details or {},
        )
    )
