"""Access checks for views, as decorators. Everything is denied unless a decorator allows it."""

import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse

from haven.accounts.sessions import REAUTHENTICATED_AT


def kind_required(*kinds: str):
    """Signed in, with an account of one of these kinds."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if request.user.kind not in kinds:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def staff_required(*roles: str):
    """Signed-in staff, past the second factor, in one of these roles (any role if none given)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_staff_member or not user.is_verified():
                raise PermissionDenied
            if roles and user.staff_role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def require_recent_password(view):
    """Sensitive changes ask for the password again unless it was given in the last minutes."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        confirmed_at = request.session.get(REAUTHENTICATED_AT, 0)
        if time.time() - confirmed_at > settings.HAVEN_REAUTH_SECONDS:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('accounts:confirm_password')}?{query}")
        return view(request, *args, **kwargs)

    return wrapped
