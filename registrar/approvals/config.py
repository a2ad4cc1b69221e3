"""Stage configuration overrides (StageConfig rows), cached and invalidated on change."""

from django.core.cache import cache

CACHE_KEY = "registrar:stage-overrides:v1"


def _load() -> dict:
    from registrar.approvals.models import StageConfig

    data = {
        (row.chain, row.stage): {"signers": row.signers or None, "deadline_days": row.deadline_days}
        for row in StageConfig.objects.all()
    }
    cache.set(CACHE_KEY, data, 300)
    return data


def stage_override(chain_code: str, stage_code: str) -> dict | None:
    data = cache.get(CACHE_KEY)
    if data is None:
        data = _load()
    return data.get((chain_code, stage_code))


def invalidate(**kwargs) -> None:
    """Drop the cache now and again once the change is committed (readers in between reload old rows)."""
    from django.db import transaction

    cache.delete(CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(CACHE_KEY))
