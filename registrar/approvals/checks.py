"""System checks of the approval chains (registered in ``RegistrarConfig.ready()``).

A chain names its forms and hooks by dotted path (``Stage.form``, ``Stage.role_forms``,
``Stage.on_pass``, ``Chain.validate``, ``Chain.on_complete``); they are imported only when a
request reaches them. This check imports every one at start-up (``manage.py check``, ``runserver``,
``migrate``, the test run), so a typo or a moved module stops the start, not a signer mid-chain.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.core import checks
from django.utils.module_loading import import_string

from .chains import Chain, all_chains

DOTTED_PATH_DOES_NOT_IMPORT = "registrar.E001"

#: the attributes of a chain and of its stages that hold a dotted path
CHAIN_PATH_FIELDS = ("validate", "on_complete")
STAGE_PATH_FIELDS = ("form", "on_pass")


def chain_dotted_paths(chain: Chain) -> Iterator[tuple[str, str]]:
    """(where, dotted path) of every dotted path ``chain`` names."""
    for name in CHAIN_PATH_FIELDS:
        if path := getattr(chain, name, None):
            yield name, path
    for stage in chain.stages:
        for name in STAGE_PATH_FIELDS:
            if path := getattr(stage, name, None):
                yield f"stage {stage.code!r} {name}", path
        for role, path in stage.role_forms:
            yield f"stage {stage.code!r} role_forms[{role!r}]", path


def chain_paths_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """An error for every dotted path of a registered chain that does not import."""
    errors = []
    for chain in all_chains():
        for where, path in chain_dotted_paths(chain):
            try:
                import_string(path)
            except ImportError as exc:
                errors.append(
                    checks.Error(
                        f"Chain {chain.code}: {where} names {path!r}, which does not import ({exc}).",
                        hint="Correct the dotted path in the chain's definition, or add what it names.",
                        obj=chain.model or chain.code,
                        id=DOTTED_PATH_DOES_NOT_IMPORT,
                    )
                )
    return errors
