"""Access to producer-only pages: approved producers see them, everyone else is refused (ACC-2)."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from haven.accounts.decorators import kind_required
from haven.accounts.models import User
from haven.producers.models import Producer


def approved_producer_required(view):
    """Signed-in producer whose registration staff approved, passed to the view as `producer`."""

    @wraps(view)
    @kind_required(User.Kind.PRODUCER)
    def wrapped(request, *args, **kwargs):
        producer = Producer.objects.filter(user=request.user).first()
        if producer is None:
            raise PermissionDenied
        if not producer.is_approved:
            return render(
                request, "producers/not_approved.html", {"producer": producer}, status=403
            )
        return view(request, *args, producer=producer, **kwargs)

    return wrapped
