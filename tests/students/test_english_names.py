"""English names of the organisation (printed on English documents): on the models, in the admin,
through the xlsx import/export, and filled in by the demo, also into rows seeded before."""

import pytest
from django.urls import reverse
from import_export.formats.base_formats import XLSX

from students.management.demo import COLLEGES_EN, MAJORS_EN, STATIONS_EN, DemoSeeder
from students.models import College, Major, Station
from students.resources import CollegeResource, MajorResource, StationResource
from tests.factories import ClassFactory, MajorFactory
from tests.students.test_admin_import import dataset

pytestmark = pytest.mark.django_db


def test_class_english_name_is_the_majors_and_the_cohort():
    major = MajorFactory(name="软件工程", name_en="Software Engineering")
    assert (
        ClassFactory(major=major, cohort=2023, name="软件工程2023级2班").english_name
        == "Software Engineering 2023, Class 2"
    )
    assert (
        ClassFactory(major=major, cohort=2024, name="软件工程2024级专升本班").english_name
        == "Software Engineering 2024"
    )
    major.name_en = ""
    assert major.english_name == "软件工程"  # empty: the name is printed


@pytest.mark.parametrize(
    ("resource", "headers", "row", "model"),
    [
        (CollegeResource, ["code", "name", "name_en"], ["LAW", "法学院", "School of Law"], College),
        (
            StationResource,
            ["code", "name", "name_en", "city"],
            ["WZ", "温州函授站", "Wenzhou Station", "温州"],
            Station,
        ),
    ],
)
def test_english_names_import_and_export(resource, headers, row, model):
    result = resource().import_data(dataset(headers, [row]), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert model.objects.get(code=row[0]).name_en == row[2]
    exported = resource().export()
    assert "name_en" in exported.headers
    assert dict(zip(exported.headers, exported[0], strict=True))["name_en"] == row[2]


def test_a_sheet_without_the_english_column_still_imports(db):
    result = CollegeResource().import_data(dataset(["code", "name"], [["LAW", "法学院"]]), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert College.objects.get(code="LAW").name_en == ""


def test_major_english_name_round_trips_through_xlsx():
    college = College.objects.create(code="LAW", name="法学院")
    MajorResource().import_data(
        dataset(["code", "name", "name_en", "college_code"], [["030101K", "法学", "Law", "LAW"]]), dry_run=False
    )
    sheet = XLSX().export_data(MajorResource().export())
    Major.objects.all().delete()
    result = MajorResource().import_data(XLSX().create_dataset(sheet), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert Major.objects.get(code="030101K").name_en == "Law" and college.majors.count() == 1


@pytest.mark.parametrize("model", [College, Major, Station])
def test_the_admin_edits_english_names(admin_client, model):
    DemoSeeder(students=0).organisation()
    obj = model.objects.order_by("code").first()
    url = reverse(f"admin:students_{model._meta.model_name}_change", args=[obj.pk])
    assert 'name="name_en"' in admin_client.get(url).content.decode()
    changelist = admin_client.get(
        reverse(f"admin:students_{model._meta.model_name}_changelist"), {"q": obj.name_en}
    ).content.decode()
    assert obj.name_en in changelist


def test_the_demo_fills_english_names_also_into_rows_seeded_before_and_keeps_edits():
    College.objects.create(code="CIE", name="计算机与信息工程学院")  # seeded before English names existed
    College.objects.create(code="EM", name="经济管理学院", name_en="School of Business")  # edited by the registrar
    DemoSeeder(students=0).organisation()
    assert College.objects.get(code="CIE").name_en == COLLEGES_EN["CIE"]
    assert College.objects.get(code="EM").name_en == "School of Business"
    assert {m.code: m.name_en for m in Major.objects.all()} == MAJORS_EN
    assert {s.code: s.name_en for s in Station.objects.all()} == STATIONS_EN
    before = {m.pk: m.updated_at for m in Major.objects.all()}
    DemoSeeder(students=0).organisation()  # idempotent: nothing to fill, nothing written
    assert {m.pk: m.updated_at for m in Major.objects.all()} == before
