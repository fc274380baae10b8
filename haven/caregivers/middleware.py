"""Which person's record a signed-in user is acting on; shown on every page (ACC-7, ACC-9)."""

from django.http import HttpRequest, HttpResponse

from haven.caregivers.models import Grant
from haven.support.services import member_blocked

ACTING_FOR_GRANT = "haven_acting_for_grant"


def acting_for(get_response):
    def middleware(request: HttpRequest) -> HttpResponse:
        request.acting_grant = None
        request.acting_for = None
        grant_id = request.session.get(ACTING_FOR_GRANT) if request.user.is_authenticated else None
        if grant_id is not None:
            grant = (
                Grant.objects.current()
                .select_related("member")
                .filter(pk=grant_id, grantee=request.user)
                .first()
            )
            if grant is None or member_blocked(grant.member):
                # Expired, revoked or blocked since it was chosen: back to one's own record at once.
                del request.session[ACTING_FOR_GRANT]
            else:
                request.acting_grant = grant
                request.acting_for = grant.member
        return get_response(request)

    return middleware
