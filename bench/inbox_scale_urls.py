"""URLs for bench/inbox_scale.py: the site's, plus ``/bench/bare-inbox/``: one SQL query over the rows
the dean's inbox shows (their first 25 open work items with the students) rendered as the same
25-row table, with no session, no navigation and no ORM objects — the floor the inbox is held to.

The benchmark's dummy chains (``BENCH_DUMMY_CHAINS``) are registered here too, so the gunicorn
workers know the chains of the work items the benchmark made."""

import os

from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from registrar.urls import urlpatterns as site
from students.models import U6


def _register_dummies() -> None:
    from registrar.approvals.chains import Chain, Stage, get_chain, register

    codes = [c for c in os.environ.get("BENCH_DUMMY_CHAINS", "").split(",") if c]
    if not codes:
        return
    model = get_chain(U6.code).model
    for n, code in enumerate(codes):
        chain = Chain(code=code, name=f"Dummy chain {n}", stages=(Stage("review", "Review", ("college_dean",)),))
        object.__setattr__(chain, "model", model)
        register(chain)


_register_dummies()

TABLE = engines["django"].from_string(
    """<!DOCTYPE html><html lang="zh-hans"><head><meta charset="utf-8"><title>inbox</title></head><body>
<table class="table table-hover mb-0" id="inbox-table"><thead><tr><th>Request</th><th>Student</th>
<th>College / class</th><th>Stage</th><th>Waiting since</th><th>Due</th><th></th></tr></thead><tbody>
{% for r in rows %}<tr data-request="{{ r.0 }}-{{ r.1 }}"><td><a href="/requests/{{ r.0 }}/{{ r.1 }}/">{{ r.0 }}</a>
#{{ r.1 }}</td><td>{{ r.5 }}<div class="small">{{ r.6 }}</div></td><td class="small">{{ r.7 }}<div>{{ r.8 }}</div></td>
<td><span class="badge">{{ r.2 }}</span></td><td class="small">{{ r.3|date:"Y-m-d H:i" }}<div>{{ r.3|timesince }}</div></td>
<td class="small">{% if r.4 %}{{ r.4|date:"Y-m-d" }}{% else %}—{% endif %}</td>
<td><a class="btn btn-sm btn-primary" href="/requests/{{ r.0 }}/{{ r.1 }}/">Handle</a></td></tr>{% endfor %}
</tbody></table></body></html>"""
)

SQL = """
SELECT w.kind, w.object_id, w.stage, w.opened_at, w.due_at, s.name, s.student_number, c.name, k.name
FROM registrar_workitem w
LEFT JOIN students_student s ON s.id = w.student_id
LEFT JOIN students_college c ON c.id = s.college_id
LEFT JOIN students_class k ON k.id = s.klass_id
WHERE w.closed_at IS NULL AND (
  (w.role = 'college_dean' AND w.college_id IN (SELECT college_id FROM students_roleassignment
                                                WHERE user_id = %s AND role = 'college_dean'))
  OR w.assignee_id = %s)
ORDER BY w.opened_at, w.id
LIMIT 25
"""


def bare_inbox(request):
    user_id = int(request.GET.get("user", "0"))
    with connection.cursor() as cursor:
        cursor.execute(SQL, [user_id, user_id])
        rows = cursor.fetchall()
    return HttpResponse(TABLE.render({"rows": rows}))


urlpatterns = [path("bench/bare-inbox/", bare_inbox), *site]
