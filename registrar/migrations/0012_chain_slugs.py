"""Chains are stored under readable codes (``suspension``) instead of seed codes (``U1``): move the
sign-offs (append-only: triggers lifted and installed again), stage configuration, documents (column
and the approval form's content), notification links and the in-flight work items. Reversible: the
backward step maps every code back."""

from django.db import migrations

from ._chain_slugs import SEED_TO_SLUG, SLUG_TO_SEED, rename_append_only_column, rename_column, rename_in_paths


def _move(apps, schema_editor, mapping):
    SignOff = apps.get_model("registrar", "SignOff")
    rename_append_only_column(schema_editor, SignOff, "chain", mapping)
    rename_column(apps.get_model("registrar", "StageConfig"), "chain", mapping)
    Document = apps.get_model("registrar", "Document")
    rename_column(Document, "chain", mapping)
    changed = []
    for doc in Document.objects.filter(chain__in=mapping.values()).only("pk", "context").iterator():
        chain = doc.context.get("chain") if isinstance(doc.context, dict) else None
        if isinstance(chain, dict) and chain.get("code") in mapping:
            if mapping is SEED_TO_SLUG:
                chain["seed_code"] = chain["code"]
            else:
                chain.pop("seed_code", None)
            chain["code"] = mapping[chain["code"]]
            changed.append(doc)
        if len(changed) >= 500:
            Document.objects.bulk_update(changed, ["context"])
            changed = []
    Document.objects.bulk_update(changed, ["context"])
    rename_in_paths(apps.get_model("registrar", "Notification"), "url", "/requests/", mapping)
    rename_column(apps.get_model("registrar", "WorkItem"), "kind", mapping)  # the in-flight table


def forwards(apps, schema_editor):
    _move(apps, schema_editor, SEED_TO_SLUG)


def backwards(apps, schema_editor):
    _move(apps, schema_editor, SLUG_TO_SEED)


class Migration(migrations.Migration):
    dependencies = [("registrar", "0011_chain_code_length")]

    operations = [migrations.RunPython(forwards, backwards)]
