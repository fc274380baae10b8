from django.apps import apps
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from haven.accounts.decorators import staff_required

# Any app may put cards on the home page (`<app>/home_cards.html`) and on the staff workspace
# (`<app>/staff_cards.html`), showing only what the signed-in person may use. These apps come
# first, the others in INSTALLED_APPS order.
HOME_CARDS_FIRST = ("messaging", "plans", "care", "producers", "caregivers", "privacy")
STAFF_CARDS_FIRST = ("support", "messaging", "producers", "records", "audit")


def home(request: HttpRequest) -> HttpResponse:
    cards = (
        card_templates("home_cards.html", first=HOME_CARDS_FIRST)
        if request.user.is_authenticated
        else []
    )
    return render(request, "front/home.html", {"card_templates": cards})


def manifest(request: HttpRequest) -> JsonResponse:
    """The web-app manifest that lets Haven install on a phone's home screen."""
    icons = [
        {"src": static("haven/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("haven/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {
            "src": static("haven/icons/icon-maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ]
    data = {
        "id": "/",
        "name": settings.SITE_NAME,
        "short_name": settings.SITE_NAME,
        "description": _("Your health plan, care team and privacy in one place."),
        "lang": get_language(),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5563",
        "icons": icons,
    }
    return JsonResponse(
        data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "front/csrf_failure.html", status=403)


def card_templates(partial: str, *, first: tuple[str, ...]) -> list[str]:
    """Every app's card partial of this name that exists, the apps in `first` leading."""
    labels = [config.label for config in apps.get_app_configs() if config.name.startswith("haven.")]
    ordered = [label for label in first if label in labels]
    ordered += [label for label in labels if label not in ordered]
    templates = []
    for label in ordered:
        name = f"{label}/{partial}"
        try:
            get_template(name)
        except TemplateDoesNotExist:
            continue
        templates.append(name)
    return templates


@staff_required()
def staff_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "front/staff_home.html",
        {"card_templates": card_templates("staff_cards.html", first=STAFF_CARDS_FIRST)},
    )
