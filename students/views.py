"""The people register in the UI: a scoped, searchable student list and a student's record."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from registrar import params
from registrar.approvals import selectors as approval_selectors
from registrar.approvals.chains import all_chains
from registrar.files import serve_file

from . import selectors
from .models import Class, College, Student
from .permissions import MASK, PERSONAL_FIELDS, may_see_personal_data, personal_data

PAGE_SIZE = 25


@login_required
def student_list(request):
    query = params.parse_query(
        request.GET,
        q=params.SearchField(),
        college=params.IdField(),
        klass=params.IdField(),
        status=forms.ChoiceField(required=False, choices=Student.Status.choices),
    )
    filters = {
        "search": query["q"] or "",
        "college_id": query["college"],
        "klass_id": query["klass"],
        "status": query["status"] or None,
    }
    students = selectors.student_list(user=request.user, **filters)
    page_obj = params.page_of(request, students, PAGE_SIZE)
    in_scope = selectors.student_list(user=request.user)  # the filters offer only what the user can see
    classes = Class.objects.filter(pk__in=in_scope.values("klass_id")).only("id", "name", "college_id")
    if filters["college_id"]:
        classes = classes.filter(college_id=filters["college_id"])
    return render(
        request,
        "students/student_list.html",
        {
            "page_obj": page_obj,
            "filters": filters,
            "colleges": College.objects.filter(pk__in=in_scope.values("college_id")).only("id", "name"),
            "classes": classes,
            "statuses": Student.Status.choices,
        },
    )


@login_required
def student_detail(request, pk):
    from registrar.documents.selectors import documents_visible_of_student

    student = selectors.student_get_visible(request.user, pk)
    requests = []
    for chain in all_chains():
        requests.extend(approval_selectors.visible_requests(request.user, chain).filter(student=student))
    requests.sort(key=lambda r: r.created_at, reverse=True)
    personal = personal_data(request.user, student)
    return render(
        request,
        "students/student_detail.html",
        {
            "student": student,
            "personal": personal,
            # a C4 change of personal data leaves history rows: masked where the data itself is
            "masked_history_fields": () if personal.full else PERSONAL_FIELDS,
            "mask": MASK,
            "history": selectors.student_history(student),
            "pending_changes": selectors.pending_changes(student),
            "requests": requests,
            "documents": documents_visible_of_student(request.user, student),
        },
    )


@login_required
def student_photo(request, pk):
    """The student's photo, for those who see their personal data in full (no public URL)."""
    student = selectors.student_get_visible(request.user, pk)
    if not may_see_personal_data(request.user, student):
        raise Http404
    return serve_file(request, student.photo, as_attachment=False)
