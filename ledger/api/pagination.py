"""Pagination of every API list (API.md: `?page=`, `?page_size=` up to 500).

Both parameters must be whole numbers of 1 or more (400 otherwise, rather than DRF's silent
fallback to the defaults); a page past the end is 404. A `page_size` above 500 is capped.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

# Enough digits for any real page; a longer string of digits is not a page number.
MAX_DIGITS = 9


def _is_positive_whole_number(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS and int(value) >= 1


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    last_page_strings = ()

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        errors = {
            name: ["Use a whole number, 1 or more."]
            for name in (self.page_query_param, self.page_size_query_param)
            if name in request.query_params
            and not _is_positive_whole_number(request.query_params[name])
        }
        if errors:
            raise ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page (default {self.page_size}; at most "
                    f"{self.max_page_size}, larger values are capped)."
                )
        return parameters
