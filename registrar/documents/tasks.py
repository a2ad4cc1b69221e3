"""Celery tasks of the document pipeline."""

from celery import shared_task


@shared_task(name="registrar.documents.tasks.render_document", ignore_result=True)
def render_document(document_id: int) -> str:
    """Render one issued document to PDF and store it (see services.document_render)."""
    from .services import document_render

    return document_render(document_id=document_id).status
