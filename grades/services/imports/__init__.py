"""Excel imports (teaching data and bulk grades), their template workbooks and the background
jobs that run them. See ``sheet`` (reading, errors), ``teaching``, ``bulk_grades``, ``workbooks``
and ``jobs``."""

from .bulk_grades import GRADE_COLUMNS, grades_import
from .jobs import (
    IMPORTERS,
    import_job_create,
    import_job_rerun,
    import_job_run,
    import_kinds,
    import_scope,
    job_status,
    visible_jobs,
)
from .sheet import ERRORS_KEPT, ImportRefused, Summary
from .teaching import COURSE_COLUMNS, OFFERING_COLUMNS, PLAN_COLUMNS, courses_import, offerings_import, plans_import
from .workbooks import template_filename, template_workbook

__all__ = [
    "COURSE_COLUMNS",
    "ERRORS_KEPT",
    "GRADE_COLUMNS",
    "IMPORTERS",
    "OFFERING_COLUMNS",
    "PLAN_COLUMNS",
    "ImportRefused",
    "Summary",
    "courses_import",
    "grades_import",
    "import_job_create",
    "import_job_rerun",
    "import_job_run",
    "import_kinds",
    "import_scope",
    "job_status",
    "offerings_import",
    "plans_import",
    "template_filename",
    "template_workbook",
    "visible_jobs",
]
