from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GradesConfig(AppConfig):
    name = "grades"
    verbose_name = _("Grades")

    def ready(self):
        from registrar.todo import register

        # documents registers the transcript and grade-sheet document types; the task modules are
        # imported so every process knows the tasks the services queue by name (registrar.background)
        from . import documents, tasks, transcript_tasks  # noqa: F401
        from .todo import sheets_todo

        register(sheets_todo)  # the instructor's late and open sheets on the home page

        from registrar.approvals.calendar import register as register_due

        from .calendar import sheets_due

        register_due(sheets_due)  # grade sheets due after the exam, on the calendar page

        from registrar.approvals.workitems import register_rebuilder

        from .services.work import work_rebuild

        register_rebuilder(work_rebuild)  # submitted sheets and station submissions in the one inbox

        from registrar import background

        # imports and class prints whose worker died end as failed, never stuck (registrar/background.py)
        background.watch(
            "grades.ImportJob",
            in_progress=["pending", "running"],
            heartbeat="updated_at",
            failed=lambda message, now: {
                "status": "failed",
                "progress": 100,
                "written": 0,
                "finished_at": now,
                "updated_at": now,
                "errors": [{"row": None, "column": "", "message": message}],
            },
        )
        background.watch(
            "grades.ClassPrint",
            in_progress=["pending"],
            heartbeat="updated_at",
            failed=lambda message, now: {"status": "failed", "progress": 100, "error": message, "updated_at": now},
        )
