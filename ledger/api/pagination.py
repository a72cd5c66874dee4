"""Pagination of every API list (docs/api.md: `?page=`, `?page_size=` up to 500).

Both parameters must be whole numbers of 1 or more (400 otherwise, rather than DRF's silent
fallback to the defaults). Any larger `page_size` is capped at 500, and any page past the end
is 404, however many digits either has: the served schema says exactly that.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request

# More digits than any real page count: such a page is past the end without counting.
MAX_PAGE_DIGITS = 9


def _is_positive_whole_number(value: str) -> bool:
    # Read as text: Python refuses to turn more than 4,300 digits into a number.
    return value.isascii() and value.isdigit() and value.strip("0") != ""


class _CountedPaginator(Paginator[Any]):
    """Django's paginator, told the number of objects (`known_count`) instead of counting
    them, when the view knows it from elsewhere."""

    def __init__(self, *args: Any, known_count: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known_count = known_count

    @cached_property
    def count(self) -> int:
        if self.known_count is not None:
            return self.known_count
        return super().count


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    last_page_strings = ()

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        params = request.query_params
        errors = {
            name: ["Use a whole number, 1 or more."]
            for name in (self.page_query_param, self.page_size_query_param)
            if name in params and not _is_positive_whole_number(params[name])
        }
        if errors:
            raise ValidationError(errors)
        if len(params.get(self.page_query_param, "").lstrip("0")) > MAX_PAGE_DIGITS:
            raise NotFound("Invalid page.")
        # A view that knows how many objects the list holds says so (`known_count`).
        self.django_paginator_class = partial(  # type: ignore[assignment]
            _CountedPaginator, known_count=getattr(view, "known_count", None)
        )
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Request) -> int:
        given = request.query_params.get(self.page_size_query_param)
        if given is None:
            return self.page_size
        # Compared as text first: a thousand-digit size is simply "more than the cap".
        digits = given.lstrip("0")
        if len(digits) > len(str(self.max_page_size)):
            return self.max_page_size
        return min(int(digits), self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page (default {self.page_size}; at most "
                    f"{self.max_page_size}, larger values are capped)."
                )
            else:
                parameter["description"] = "A page number; a page past the end is 404."
        return parameters
