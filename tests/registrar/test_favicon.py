"""``/favicon.ico`` answers (it was a 404 on every page view): a redirect to the icon shipped among the
static files, which every page also names in a ``<link rel="icon">``."""

from django.contrib.staticfiles import finders
from django.templatetags.static import static
from PIL import Image


def test_favicon_ico_redirects_anyone_to_the_static_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("registrar/img/favicon.ico")
    assert "max-age" in response["Cache-Control"]


def test_the_icons_are_shipped():
    with Image.open(finders.find("registrar/img/favicon.ico")) as ico:
        assert ico.format == "ICO" and {(16, 16), (32, 32)} <= set(ico.info["sizes"])
    assert finders.find("registrar/img/favicon.svg") and finders.find("registrar/img/apple-touch-icon.png")


def test_every_page_links_the_icon(client, db):
    html = client.get("/login/").content.decode()
    assert f'<link rel="icon" href="{static("registrar/img/favicon.ico")}"' in html
    assert f'<link rel="icon" href="{static("registrar/img/favicon.svg")}" type="image/svg+xml">' in html
