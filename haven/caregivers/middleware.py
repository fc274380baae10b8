"""Which person's record a signed-in user is acting on; shown on every page (ACC-9)."""

from django.http import HttpRequest, HttpResponse

from haven.caregivers.models import Grant

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
            if grant is None:
                # Expired or revoked since it was chosen: back to the user's own record at once.
                del request.session[ACTING_FOR_GRANT]
            else:
                request.acting_grant = grant
                request.acting_for = grant.member
        return get_response(request)

    return middleware
