"""Celery tasks of the transcripts: the merged class print of a route (1) batch.

Imported by ``GradesConfig.ready()``, so every process that loads Django knows the task (the
services queue it by name: registrar.background.enqueue).
"""

from celery import shared_task
from django.conf import settings

#: how long the class print waits for the pipeline to render the class's transcripts before it
#: renders the missing ones itself (WAIT_SECONDS × MAX_WAITS)
WAIT_SECONDS = 2
MAX_WAITS = 150


# acks_late + reject_on_worker_lost: a worker that dies while merging leaves the task on the queue for the
# next worker (the merge is idempotent: a ready print is left alone).
@shared_task(
    name="grades.transcript_tasks.build_class_print",
    bind=True,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def build_class_print(self, class_print_id: int, attempt: int = 0) -> str:
    """Merge a class's transcripts into one PDF once the pipeline has rendered them all.

    Not ready yet → ask again in ``WAIT_SECONDS`` (progress shows how many are ready). Eagerly
    run (tests, no broker) or after ``MAX_WAITS`` it renders what is missing itself. A lock error is
    retried later (registrar.background.run_with_retries), the print staying pending meanwhile.
    """
    from grades.models import ClassPrint
    from grades.services.transcripts import class_print_build
    from registrar.background import run_with_retries

    render_missing = bool(self.request.is_eager) or attempt >= MAX_WAITS
    cp = run_with_retries(
        self, lambda final: class_print_build(class_print_id=class_print_id, render_missing=render_missing, final=final)
    )
    if cp.status == ClassPrint.Status.PENDING:
        # ask again on the queue this task came from (a worker may serve a dedicated queue)
        queue = (self.request.delivery_info or {}).get("routing_key") or settings.REGISTRAR.get("DOCUMENT_QUEUE")
        build_class_print.apply_async(
            args=[class_print_id, attempt + 1], countdown=WAIT_SECONDS, **({"queue": queue} if queue else {})
        )
    return cp.status
