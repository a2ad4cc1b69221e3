import pytest

from registrar.roles import Role
from tests.factories import ClassFactory, StudentFactory, staff
from tests.grades.factories import CourseFactory, TermFactory, make_offering, open_window


@pytest.fixture
def grades_world(db):
    """One college with a class of five students and an offering of a course taught by an
    instructor, inside an open entry window; the college's teaching secretary and dean,
    Academic Affairs, plus another college's instructor and teaching secretary (out of scope)."""
    klass = ClassFactory()
    college = klass.college
    students = [StudentFactory(klass=klass) for _ in range(5)]
    term = TermFactory()
    instructor = staff(Role.INSTRUCTOR, college=college, username="instructor")
    course = CourseFactory(college=college)
    offering = make_offering(course=course, term=term, classes=[klass], instructors=[instructor])
    academic_affairs = staff(Role.ACADEMIC_AFFAIRS, username="aa")
    window = open_window(term, published_by=academic_affairs)
    other_class = ClassFactory()
    return {
        "college": college,
        "klass": klass,
        "students": students,
        "student": students[0],
        "term": term,
        "course": course,
        "offering": offering,
        "window": window,
        "instructor": instructor,
        "secretary": staff(Role.TEACHING_SECRETARY, college=college, username="secretary"),
        "dean": staff(Role.COLLEGE_DEAN, college=college, username="dean"),
        "academic_affairs": academic_affairs,
        "student_affairs": staff(Role.STUDENT_AFFAIRS, username="student_affairs"),
        "other_instructor": staff(Role.INSTRUCTOR, college=other_class.college, username="other_instructor"),
        "other_secretary": staff(Role.TEACHING_SECRETARY, college=other_class.college, username="other_secretary"),
        "other_class": other_class,
    }
