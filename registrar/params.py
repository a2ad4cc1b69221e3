"""Query parameters, parsed in one place (STYLE.md §9).

No view reads ``int(request.GET[...])`` or hands a raw parameter to a query. Parameters go through a
``QueryForm`` (or a view's own filter form built from the fields below), so bad input answers 400 or
404, or is ignored as a filter, never 500:

- an id (``IdField``) is an integer from 1 to the largest bigint: PostgreSQL refuses larger ones
  ("integer out of range") and SQLite's driver cannot even send them (``OverflowError``);
- a page number (``PageField``, ``page_of``, ``api_page_number``) is an integer from 1 to
  ``PAGE_MAX``, so an ``OFFSET`` can never overflow;
- a list of ids in a form (``ModelIdMultipleChoiceField``) is checked the same way before ``pk__in``;
- a search text (``SearchField``) is cut to 64 characters and refused if it holds a NUL character,
  which PostgreSQL cannot store or compare.

Pages treat a bad parameter as absent (the filter is dropped, a junk page number shows the first
page, one past the end the last page, as ``Paginator.get_page`` does). The API answers 400 for a bad
filter (``parse_api_query``) and 404 for a page that does not exist, as DRF's pagination does.
"""

from __future__ import annotations

from django import forms
from django.core.paginator import Page, Paginator
from django.utils.translation import gettext_lazy

ID_MAX = 2**63 - 1  # the largest bigint (PostgreSQL and SQLite INTEGER)
PAGE_MAX = 100_000  # far beyond any real list; keeps OFFSET = (page - 1) × size in range
SEARCH_MAX = 64

INVALID_PAGE = gettext_lazy("Invalid page.")


class IdField(forms.IntegerField):
    """A database id: an integer from 1 to the largest bigint; anything else is invalid."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


class PageField(IdField):
    """A page number: 1 … ``PAGE_MAX``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", PAGE_MAX)
        super().__init__(**kwargs)


class SearchField(forms.CharField):
    """A free-text search: stripped and cut to ``SEARCH_MAX`` characters; a NUL character is invalid."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        return super().to_python(value)[:SEARCH_MAX]


class ChainField(forms.ChoiceField):
    """A chain code (``suspension``); a seed code (``U1``) from an old link is read as its chain's code."""

    def __init__(self, chains=None, **kwargs):
        from registrar.approvals.chains import all_chains

        kwargs.setdefault("required", False)
        chains = all_chains() if chains is None else chains
        kwargs.setdefault("choices", [(c.code, c.code) for c in chains])
        super().__init__(**kwargs)

    def to_python(self, value):
        from registrar.approvals.chains import chain_for_seed_code

        value = super().to_python(value)
        chain = chain_for_seed_code(value) if value else None
        return chain.code if chain else value


class ModelIdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A ``ModelMultipleChoiceField`` of ids whose values must be ids (``IdField``) before any query:
    Django's own check hands them to ``pk__in``, which SQLite's driver cannot send beyond 64 bits."""

    def _check_values(self, value):
        id_field = IdField(required=True)
        for pk in value:
            try:
                id_field.clean(pk)
            except forms.ValidationError:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                ) from None
        return super()._check_values(value)


class QueryForm(forms.Form):
    """A form over ``request.GET``. ``values()`` gives every field's value, ``None`` (or the
    field's ``initial``) for a parameter that is absent or invalid: a page drops a bad filter."""

    def __init__(self, data=None, **kwargs):
        super().__init__(data if data is not None else {}, **kwargs)

    def values(self) -> dict:
        self.is_valid()
        return {
            name: self.cleaned_data.get(name, field.initial) if name not in self.errors else field.initial
            for name, field in self.fields.items()
        }


def query_form(**fields) -> type[QueryForm]:
    """A ``QueryForm`` class with these fields: ``query_form(college=IdField(), q=SearchField())``."""
    return type("Query", (QueryForm,), dict(fields))


def parse_query(data, **fields) -> dict:
    """The values of ``fields`` in ``data`` (a ``QueryDict``), a bad one as absent (pages)."""
    return query_form(**fields)(data).values()


def parse_api_query(data, **fields) -> dict:
    """The values of ``fields`` in ``data``; a bad one answers 400 with the field's error (API)."""
    from rest_framework.exceptions import ValidationError

    form = query_form(**fields)(data)
    if not form.is_valid():
        raise ValidationError({name: [str(e) for e in errors] for name, errors in form.errors.items()})
    return form.values()


def id_or_none(raw) -> int | None:
    """The id in ``raw`` (a query parameter), or ``None`` when it is absent or not an id."""
    return parse_query({"id": raw} if raw is not None else {}, id=IdField())["id"]


def page_number(raw) -> int:
    """The page asked for by ``raw``: 1 when absent or junk, at most ``PAGE_MAX``."""
    try:
        number = PageField(max_value=None).clean(raw)
    except forms.ValidationError:
        return 1
    return min(number or 1, PAGE_MAX)


def page_of(request, object_list, per_page: int, *, param: str = "page") -> Page:
    """One page of ``object_list`` for ``request.GET[param]``: junk → the first page, past the end → the
    last (as ``Paginator.get_page``), whatever the parameter holds."""
    return Paginator(object_list, per_page).get_page(page_number(request.GET.get(param)))


def api_page_number(raw) -> int:
    """The page asked for by ``raw`` in the API: 1 when absent; 404 (``Invalid page.``) when it is not
    a page number, as DRF's pagination answers."""
    from rest_framework.exceptions import NotFound

    if raw in (None, ""):
        return 1
    try:
        return PageField(required=True).clean(raw)
    except forms.ValidationError:
        raise NotFound(INVALID_PAGE) from None


def search_of(request, param: str = "q") -> str:
    """The free-text search in ``request.GET[param]``: stripped, at most ``SEARCH_MAX`` characters, "" if bad."""
    return parse_query(request.GET, **{param: SearchField()})[param] or ""
