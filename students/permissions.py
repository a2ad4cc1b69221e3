"""Who may look a student up, and who sees a student's personal data in full.

**Look-up (C3).** The register is not a phone book for every office:

- a superuser sees every student, a student user only themself;
- the offices that keep or oversee student records look students up within their scope
  (``LOOKUP_ROLES``: Academic Affairs and its head, Student Affairs, university leadership, the
  college's party secretary, dean, teaching secretary and office, class advisors and counsellors,
  correspondence stations);
- a role that opens requests for students (``Chain.initiator_roles``: an instructor's grade
  correction, a counsellor's automatic withdrawal, a station's status change, Student Affairs'
  transcript batches) finds the students it may open them for, within its scope;
- everyone else (finance, library, dorm, apartment, canteen, textbook centre, president's office,
  Youth League branch, thesis supervisors …, and anyone who signed a request without holding
  a look-up role) sees only the students of the requests they may see
  (``approvals.permissions.visible_q``): a clearance office knows a student from the request it
  signs, and nothing more.

Outside this rule a student does not exist for the user (404); ``students.selectors`` applies it.

**Personal data** (``PERSONAL_FIELDS``: 身份证号, 出生日期, 民族, 政治面貌 and the photo) is shown in
full only to the student themself, a superuser, Academic Affairs within its scope and the
class's counsellor and advisor (``PERSONAL_DATA_ROLES``). Everyone else who may see the student
gets it masked (``3301**********1234``, ``****``): ``personal_data`` is the one place that
decides, and every page, serializer and export showing a student reads it. Searching by
identity number is offered only where the number would be shown in full.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from registrar.approvals.permissions import grants, is_student_user
from registrar.roles import Role, Scope

#: Roles that look students up within their scope (C3).
LOOKUP_ROLES = frozenset(
    {
        Role.ACADEMIC_AFFAIRS,
        Role.ACADEMIC_AFFAIRS_HEAD,
        Role.STUDENT_AFFAIRS,
        Role.LEADERSHIP,
        Role.COLLEGE_SECRETARY,
        Role.COLLEGE_DEAN,
        Role.TEACHING_SECRETARY,
        Role.COLLEGE_OFFICE,
        Role.ADVISOR,
        Role.COUNSELLOR,
        Role.STATION,
    }
)

#: Roles that see a student's personal data in full, within their scope.
PERSONAL_DATA_ROLES = frozenset({Role.ACADEMIC_AFFAIRS, Role.ADVISOR, Role.COUNSELLOR})

#: The student fields masked for everyone else (the photo is withheld the same way).
PERSONAL_FIELDS = ("id_number", "birth_date", "ethnicity", "political_status")

MASK = "****"


def lookup_roles() -> set[str]:
    """``LOOKUP_ROLES`` plus every staff role that opens requests for students."""
    from registrar.approvals.chains import all_chains

    initiators = {r for chain in all_chains() for r in chain.initiator_roles}
    return (set(LOOKUP_ROLES) | initiators) - {Role.STUDENT}


def _scope_q(grant_list, prefix: str = "") -> Q | None:
    """OR of the grants' student scopes; ``Q()`` when one covers the university, ``None`` when none."""
    q: Q | None = None
    for g in grant_list:
        if g.scope == Scope.UNIVERSITY:
            return Q()
        part = g.student_q(prefix)
        q = part if q is None else q | part
    return q


def student_lookup_q(user) -> Q | None:
    """A Q over Student for the students ``user`` may look up: ``Q()`` every one, ``None`` none."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Q()
    mine = grants(user)
    roles = lookup_roles()
    scope = _scope_q([g for g in mine if g.role in roles])
    if scope is not None and not scope:  # university-wide look-up
        return Q()
    q = Q(user=user) if scope is None else Q(user=user) | scope
    others = [g for g in mine if g.role not in roles]
    if others or (scope is None and not is_student_user(user)):
        # roles without look-up, or staff who signed requests without one: the students of the
        # requests they may see, in the chains they take part in or signed (a look-up role's own
        # chains are inside its scope already, and leaving them out keeps its queries short)
        from registrar.approvals.chains import all_chains
        from registrar.approvals.models import SignOff
        from registrar.approvals.permissions import visible_q

        signed = set(SignOff.objects.filter(actor=user).values_list("content_type_id", flat=True).distinct())
        for chain in all_chains():
            takes_part = any(g.role in chain.participant_roles() for g in others)
            if takes_part or _content_type_id(chain) in signed:
                q |= Q(pk__in=chain.model.objects.filter(visible_q(user, chain)).values("student_id"))
    return q


def _content_type_id(chain) -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(chain.model).pk


def may_see_personal_data(user, student) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser or (student.user_id is not None and student.user_id == user.pk):
        return True
    return any(g.role in PERSONAL_DATA_ROLES and g.covers(student) for g in grants(user))


def personal_data_q(user) -> Q | None:
    """A Q over Student where ``may_see_personal_data`` holds (the same rule, for queries)."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_superuser:
        return Q()
    scope = _scope_q([g for g in grants(user) if g.role in PERSONAL_DATA_ROLES])
    if scope is not None and not scope:
        return Q()
    return Q(user=user) if scope is None else Q(user=user) | scope


def mask_id_number(value: str) -> str:
    """330102200405171234 → 3301**********1234 (region and last four kept)."""
    value = value or ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


@dataclass(frozen=True)
class PersonalData:
    """A student's personal fields as ``user`` may see them: in full, or masked."""

    full: bool
    id_number: str
    birth_date: str
    ethnicity: str
    political_status: str  # the code, or MASK
    political_status_label: str

    @property
    def masked(self) -> bool:
        return not self.full


def personal_data(user, student) -> PersonalData:
    """The one place that decides whether ``user`` sees ``student``'s personal data in full."""
    if may_see_personal_data(user, student):
        return PersonalData(
            full=True,
            id_number=student.id_number,
            birth_date=student.birth_date.isoformat() if student.birth_date else "",
            ethnicity=student.ethnicity,
            political_status=student.political_status,
            political_status_label=str(student.get_political_status_display()),
        )
    return PersonalData(
        full=False,
        id_number=mask_id_number(student.id_number),
        birth_date=MASK,
        ethnicity=MASK,
        political_status=MASK,
        political_status_label=MASK,
    )
