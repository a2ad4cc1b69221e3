"""Brute-force protection (issue 8, defect 12; R7 "throttling").

Before: 50 wrong passwords, then the right one logged in, on the login page and on the token
endpoint alike. Now (django-axes): after ``AXES_FAILURE_LIMIT`` failures the account is locked for
``AXES_COOLOFF_TIME`` — the right password is refused too, with a clear page (429) or a 429 JSON
answer — until the cool-off passes or staff unlock it in the admin. The test settings turn axes
off for the rest of the suite (Client.login() has no request); these tests turn it on.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from freezegun import freeze_time

from registrar.lockout import LOCKED_OUT, lockout_message
from tests.factories import UserFactory
from tests.reliability.demo import _media, demo_media, demo_world  # noqa: F401

pytestmark = pytest.mark.django_db
PASSWORD = "pass12345"  # UserFactory's
LIMIT = 5


@pytest.fixture(autouse=True)
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)


@pytest.fixture
def user():
    return UserFactory(username="20240101")


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def token(client, username, password):
    return client.post(
        reverse("api:token"), {"username": username, "password": password}, content_type="application/json"
    )


# --- the login page ---------------------------------------------------------------------------------
def test_the_right_password_logs_in(client, user):
    response = login(client, user.username, PASSWORD)
    assert response.status_code == 302 and logged_in(client)


def test_the_login_page_locks_after_the_limit_the_right_password_included(client, user):
    for _ in range(LIMIT - 1):
        assert login(client, user.username, "wrong-password").status_code == 200  # the form's error
    locked = login(client, user.username, "wrong-password")
    assert locked.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in locked.templates]
    assert lockout_message() in locked.content.decode()
    right = login(Client(), user.username, PASSWORD)
    assert right.status_code == 429 and not logged_in(client)


def test_fifty_wrong_passwords_then_the_right_one_is_refused(client, user):
    """The issue's reproduction."""
    for _ in range(50):
        assert login(client, user.username, "guess").status_code in (200, 429)
    assert login(client, user.username, PASSWORD).status_code == 429
    assert not logged_in(client)


def test_one_address_trying_many_usernames_is_locked_too(client):
    """Student usernames are sequential 学号: trying one password across them is stopped as well."""
    users = [UserFactory(username=f"2024{n:04d}") for n in range(LIMIT + 1)]
    statuses = [login(client, u.username, "123456").status_code for u in users]
    assert statuses[: LIMIT - 1] == [200] * (LIMIT - 1) and statuses[-1] == 429


def test_the_lock_ends_after_the_cool_off(user):
    with freeze_time("2026-03-02 09:00:00"):
        for _ in range(LIMIT):
            login(Client(), user.username, "wrong")
        assert login(Client(), user.username, PASSWORD).status_code == 429
    with freeze_time("2026-03-02 09:20:00"):  # 15 minutes after the last attempt, and some
        client = Client()
        assert login(client, user.username, PASSWORD).status_code == 302 and logged_in(client)


def test_staff_unlock_a_user_in_the_admin(user):
    for _ in range(LIMIT):
        login(Client(), user.username, "wrong")
    assert login(Client(), user.username, PASSWORD).status_code == 429

    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = admin.post(
        reverse("admin:registrar_user_changelist"),
        {"action": "unlock_login", "_selected_action": [user.pk]},
        follow=True,
    )
    assert response.status_code == 200

    client = Client()
    assert login(client, user.username, PASSWORD).status_code == 302 and logged_in(client)


def test_a_successful_login_resets_the_count(client, user):
    for _ in range(LIMIT - 1):
        login(Client(), user.username, "wrong")
    assert login(client, user.username, PASSWORD).status_code == 302
    for _ in range(LIMIT - 1):
        login(Client(), user.username, "wrong")
    assert login(Client(), user.username, PASSWORD).status_code == 302


# --- the API token ------------------------------------------------------------------------------------
def test_the_token_endpoint_locks_after_the_limit_the_right_password_included(user):
    client = Client()
    assert token(client, user.username, PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        assert token(client, user.username, "wrong").status_code == 400
    assert token(client, user.username, "wrong").status_code == 429
    refused = token(client, user.username, PASSWORD)
    assert refused.status_code == 429
    assert refused.json() == {"detail": lockout_message()}
    assert "token" not in refused.json()


def test_the_token_endpoint_and_the_login_page_share_the_count(user):
    for _ in range(LIMIT - 1):
        token(Client(), user.username, "wrong")
    assert login(Client(), user.username, "wrong").status_code == 429
    assert token(Client(), user.username, PASSWORD).status_code == 429


def test_the_token_endpoint_opens_again_after_the_cool_off(user):
    with freeze_time("2026-03-02 09:00:00"):
        for _ in range(LIMIT):
            token(Client(), user.username, "wrong")
        assert token(Client(), user.username, PASSWORD).status_code == 429
    with freeze_time("2026-03-02 09:20:00"):
        assert token(Client(), user.username, PASSWORD).status_code == 200


def test_the_message_names_the_cool_off():
    assert lockout_message() == str(LOCKED_OUT % {"minutes": 15})


# --- passwords -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("password", ["12345678", "password", "20240101x", "abc"])
def test_weak_passwords_are_refused(password):
    user = UserFactory.build(username="20240101x", full_name="张三")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_the_validators_are_djangos_full_set(settings):
    names = {v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert names == {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }


def test_the_demo_password_still_logs_in_seeded_users(demo_world):
    """seed_demo sets passwords directly (validators apply to forms only); demo12345 passes them anyway."""
    from students.management.demo import PASSWORD as DEMO

    validate_password(DEMO)
    for username in ("registrar", "counsellor", "student", "admin"):
        c = Client()
        assert login(c, username, DEMO).status_code == 302 and logged_in(c), username
