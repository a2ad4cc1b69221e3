"""Settings for bench/inbox_scale.py: production settings plus the bare comparison view's URL."""

from registrar.settings.production import *  # noqa: F403

ROOT_URLCONF = "inbox_scale_urls"
