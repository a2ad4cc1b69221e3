"""The seed codes chains were stored under until 2026-12, and the readable codes that replaced them
(STYLE.md §9). Frozen here for the data migrations that move stored rows (registrar 0012, students
0007, grades 0008); not imported by the running code. Django's migration loader skips this module
(its name starts with an underscore)."""

from django.db.models import Value
from django.db.models.functions import Replace

from registrar.append_only import append_only_lifted

SEED_TO_SLUG = {
    "U1": "suspension",
    "U2": "resumption",
    "U3": "withdrawal",
    "U4": "auto_withdrawal",
    "U6": "id_card",
    "C4": "station_status_change",
    "U5C": "grade_correction",
    "C8X": "exemption",
    "U5T": "transcript_personal",
    "U5B": "transcript_batch",
}
SLUG_TO_SEED = {slug: seed for seed, slug in SEED_TO_SLUG.items()}


def rename_column(model, field: str, mapping: dict[str, str]) -> None:
    for old, new in mapping.items():
        model._default_manager.filter(**{field: old}).update(**{field: new})


def rename_append_only_column(schema_editor, model, field: str, mapping: dict[str, str]) -> None:
    with append_only_lifted(schema_editor, model._meta.db_table):
        rename_column(model, field, mapping)


def rename_in_paths(model, field: str, prefix: str, mapping: dict[str, str]) -> None:
    """``/requests/U1/5/`` → ``/requests/suspension/5/`` in a stored link."""
    for old, new in mapping.items():
        before, after = f"{prefix}{old}/", f"{prefix}{new}/"
        model._default_manager.filter(**{f"{field}__contains": before}).update(
            **{field: Replace(field, Value(before), Value(after))}
        )
