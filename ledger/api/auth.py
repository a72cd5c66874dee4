"""Token authentication that remembers a token's user for a minute (issue 15).

DRF's `TokenAuthentication` reads the token and its user on every request: one statement of a
send's few. This one keeps the token (with its user) in the cache (Redis), under a hash of the
key, for `TOKEN_CACHE_SECONDS`, and forgets it as soon as the token or its user changes or goes
(signals, `forget_tokens_of`), so a deactivated user's or a deleted token's next request is
refused as before. A change that bypasses the models' `save` and `delete` (a queryset's
`update`) takes effect within the minute. With the cache away it reads the database, as DRF does.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from teams.models import User

TOKEN_CACHE_SECONDS = 60


def _cache_key(key: str) -> str:
    return "api-token:" + hashlib.sha256(key.encode()).hexdigest()


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        cache_key = _cache_key(key)
        token = cache.get(cache_key)
        if not isinstance(token, Token) or token.key != key:
            user, token = super().authenticate_credentials(key)
            cache.set(cache_key, _cacheable(token, user), TOKEN_CACHE_SECONDS)
            return user, token
        if not token.user.is_active:  # pragma: no cover - an inactive user is never cached
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token


def _cacheable(token: Token, user: User) -> Token:
    """The token and its user as cached: without the password hash (a deferred field, read
    from the database if anything asks for it, and left alone by `save`)."""
    kept = copy.copy(user)
    kept._state = copy.copy(user._state)
    kept.__dict__.pop("password", None)
    return Token(key=token.key, user=kept, created=token.created)


def forget_tokens_of(user_id: int) -> None:
    """Forget the cached tokens of a user whose row changed (deactivated, made admin...)."""
    keys = Token.objects.filter(user_id=user_id).values_list("key", flat=True)
    cache.delete_many([_cache_key(key) for key in keys])


def _user_changed(sender: Any, instance: User, **kwargs: Any) -> None:
    forget_tokens_of(instance.pk)


def _token_changed(sender: Any, instance: Token, **kwargs: Any) -> None:
    cache.delete(_cache_key(instance.key))


def connect_signals() -> None:
    post_save.connect(_user_changed, sender=User, dispatch_uid="api-token-user-saved")
    post_delete.connect(_user_changed, sender=User, dispatch_uid="api-token-user-deleted")
    post_save.connect(_token_changed, sender=Token, dispatch_uid="api-token-saved")
    post_delete.connect(_token_changed, sender=Token, dispatch_uid="api-token-deleted")
