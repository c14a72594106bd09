from __future__ import annotations

from django.contrib.auth.models import User
from django.core import signing
from django.http import HttpRequest

LOGIN_LINK_MAX_AGE = 3600


class BasicBackend:
    def get_user(self, user_id: int) -> User | None:
        try:
            return User.objects.get(pk=user_id)
        except User.DoesNotExist:
            return None


# Authenticate against the token in user's login link
class TokenBackend(BasicBackend):
    def authenticate(self, request: HttpRequest, token: str | None = None) -> User | None:
        if not token:
            return None

        try:
            username = signing.loads(token, salt="login", max_age=LOGIN_LINK_MAX_AGE)
        except signing.BadSignature:
            return None

        return User.objects.filter(username=username, is_active=True).first()


# Authenticate against a password, looking the user up by email
class EmailBackend(BasicBackend):
    def authenticate(
        self,
        request: HttpRequest,
        username: str | None = None,
        password: str | None = None,
    ) -> User | None:
        if not password:
            return None

        try:
            user = User.objects.get(email=username)
        except User.DoesNotExist:
            return None

        if not user.check_password(password):
            return None

        return user
