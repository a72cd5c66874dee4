"""Authentication backend that gives admins every permission.

docs/rules.md, "Who uses it": an admin (`is_staff`) may do everything. Django's admin site
also asks for a per-model permission, which only superusers have by default; without this
backend an admin made by ticking "admin" (or through the API's `is_admin`) would sign in to an
empty admin site.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model

from teams.models import User
from teams.selectors import user_is_admin


class AdminsMayDoEverythingBackend(ModelBackend):
    def has_perm(self, user_obj: User | AnonymousUser, perm: str, obj: Model | None = None) -> bool:
        return user_is_admin(user_obj) or super().has_perm(user_obj, perm, obj=obj)

    async def ahas_perm(
        self, user_obj: User | AnonymousUser, perm: str, obj: Model | None = None
    ) -> bool:
        return user_is_admin(user_obj) or await super().ahas_perm(user_obj, perm, obj=obj)

    def has_module_perms(self, user_obj: User | AnonymousUser, app_label: str) -> bool:
        return user_is_admin(user_obj) or super().has_module_perms(user_obj, app_label)

    async def ahas_module_perms(self, user_obj: User | AnonymousUser, app_label: str) -> bool:
        return user_is_admin(user_obj) or await super().ahas_module_perms(user_obj, app_label)
