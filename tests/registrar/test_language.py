from django.urls import reverse


def test_chinese_by_default_even_for_an_english_browser(client, db):
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page.headers["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans"' in page.content.decode()


def test_the_language_switch_cookie_chooses_english(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    page = client.get(reverse("login"))
    assert page.headers["Content-Language"] == "en"
