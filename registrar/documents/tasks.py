"""Celery tasks of the document pipeline."""

from celery import shared_task


# acks_late + reject_on_worker_lost: a worker that dies while rendering leaves the task on the queue for
# the next worker (rendering is idempotent; a document that keeps killing its worker is given up, see
# services.render_attempt_limit).
@shared_task(
    name="registrar.documents.tasks.render_document",
    bind=True,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def render_document(self, document_id: int) -> str:
    """Render one issued document to PDF and store it (see services.document_render); a lock error is
    retried later (registrar.background.run_with_retries), the document staying pending meanwhile."""
    from registrar.background import run_with_retries

    from .services import document_render

    return run_with_retries(self, lambda final: document_render(document_id=document_id, final=final)).status
