"""Pages of the health library and programmes (PLAN-5).

Reading an article writes nothing: no audit record, no read log, no counter; the pages are the same
for everyone who may see them. A member's enrolment, reminders and answers are shown to them alone.
"""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from haven.accounts.decorators import kind_required, staff_required
from haven.accounts.models import User
from haven.library import services
from haven.library.forms import (
    AnswerForm,
    ArticleForm,
    EnrolForm,
    ItemForm,
    StatusForm,
    text_forms,
)
from haven.library.models import (
    Article,
    Delivery,
    DeliveryKind,
    Enrolment,
    Item,
    Programme,
    Status,
)
from haven.privacy.models import Channel
from haven.replica import reads_from_replica


def _language() -> str:
    return get_language() or "en"


def _shown(objects, language: str) -> list[dict]:
    return [{"object": obj, "text": obj.text_in(language)} for obj in objects]


def index(request: HttpRequest) -> HttpResponse:
    language = _language()
    is_editor = services.can_edit(request.user)
    # Readers may see a publication a little late; editors read what they have just saved.
    with reads_from_replica(not is_editor):
        articles = _shown(services.articles_for(request.user), language)
        programmes = _shown(services.programmes_published(), language)
    return render(
        request,
        "library/index.html",
        {"articles": articles, "programmes": programmes, "is_editor": is_editor},
    )


def article(request: HttpRequest, slug: str) -> HttpResponse:
    with reads_from_replica(not services.can_edit(request.user)):
        found = get_object_or_404(Article.objects.prefetch_related("texts"), slug=slug)
    preview = found.status != Status.PUBLISHED
    if preview and not services.can_edit(request.user):
        raise Http404
    if not found.public and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    language = _language()
    text = found.text_in(language)
    return render(
        request,
        "library/article.html",
        {
            "article": found,
            "text": text,
            "fallback": text is not None and text.language != language,
            "preview": preview,
        },
    )


def _channel_status(user: User) -> list[dict]:
    """What the privacy center allows now, per channel offered, for reminders and questionnaires."""
    if not user.is_authenticated:
        return []
    return [
        {
            "label": Channel(channel).label,
            "reminders": services.channel_allowed(user, channel, DeliveryKind.REMINDER),
            "questionnaires": services.channel_allowed(user, channel, DeliveryKind.QUESTIONNAIRE),
        }
        for channel in services.CHANNELS
    ]


@require_http_methods(["GET", "POST"])
def programme(request: HttpRequest, slug: str) -> HttpResponse:
    found = get_object_or_404(
        Programme.objects.prefetch_related("texts"), slug=slug, status=Status.PUBLISHED
    )
    enrolment = services.enrolment_of(request.user, found)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not services.may_enrol(request.user):
            raise PermissionDenied
        form = EnrolForm(request.POST)
        if form.is_valid():
            try:
                services.enrol(
                    user=request.user,
                    programme=found,
                    reminders=form.cleaned_data["reminders"],
                    questionnaires=form.cleaned_data["questionnaires"],
                    channels=form.cleaned_data["channels"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("Your choices are saved.")
                    if enrolment
                    else _("You have joined the programme."),
                )
                return redirect("library:mine")
    else:
        initial = (
            {
                "reminders": enrolment.reminders,
                "questionnaires": enrolment.questionnaires,
                "channels": enrolment.channels,
            }
            if enrolment
            else None
        )
        form = EnrolForm(initial=initial)
    language = _language()
    text = found.text_in(language)
    return render(
        request,
        "library/programme.html",
        {
            "programme": found,
            "text": text,
            "fallback": text is not None and text.language != language,
            "enrolment": enrolment,
            "form": form,
            "may_enrol": services.may_enrol(request.user),
            "channel_status": _channel_status(request.user),
        },
    )


@require_POST
@kind_required(User.Kind.MEMBER)
def leave(request: HttpRequest, slug: str) -> HttpResponse:
    found = get_object_or_404(Programme, slug=slug)
    enrolment = services.enrolment_of(request.user, found)
    if enrolment is None:
        messages.info(request, _("You are not in this programme."))
    else:
        services.enrolment_leave(enrolment=enrolment, actor=request.user)
        messages.success(
            request,
            _(
                "You have left the programme. Nothing more will be sent, and what it kept is deleted."
            ),
        )
    return redirect("library:index")


@kind_required(User.Kind.MEMBER)
def mine(request: HttpRequest) -> HttpResponse:
    language = _language()
    enrolments = (
        Enrolment.objects.filter(user=request.user)
        .select_related("programme")
        .prefetch_related("programme__texts")
    )
    shown = []
    for enrolment in enrolments:
        deliveries = list(
            enrolment.deliveries.select_related("item").prefetch_related("item__texts")[:20]
        )
        shown.append(
            {
                "enrolment": enrolment,
                "text": enrolment.programme.text_in(language),
                "deliveries": [
                    {
                        "delivery": delivery,
                        "tip": delivery.item.text_in(language) if delivery.item else "",
                    }
                    for delivery in deliveries
                ],
            }
        )
    return render(
        request,
        "library/mine.html",
        {"enrolments": shown, "channel_status": _channel_status(request.user)},
    )


@require_http_methods(["GET", "POST"])
@kind_required(User.Kind.MEMBER)
def questionnaire(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(
        Delivery.objects.select_related("enrolment__programme"),
        pk=pk,
        kind=DeliveryKind.QUESTIONNAIRE,
        enrolment__user=request.user,
    )
    language = _language()
    questions = services.questions_of(delivery.enrolment.programme)
    if request.method == "POST":
        form = AnswerForm(request.POST, questions=questions, language=language)
        if form.is_valid():
            try:
                services.questionnaire_answer(
                    delivery=delivery, values=form.values(), actor=request.user
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request, _("Thank you: your answers are saved. Only you see them.")
                )
                return redirect("library:mine")
    else:
        answers = {answer.item_id: answer.value for answer in delivery.answers.all()}
        form = AnswerForm(
            initial={f"q{item_id}": value for item_id, value in answers.items()},
            questions=questions,
            language=language,
        )
    return render(
        request,
        "library/questionnaire.html",
        {
            "delivery": delivery,
            "form": form,
            "text": delivery.enrolment.programme.text_in(language),
        },
    )


# --- Staff who write health content ----------------------------------------------------------


def _editor(request: HttpRequest) -> None:
    if not services.can_edit(request.user):
        raise PermissionDenied


@staff_required()
def staff_content(request: HttpRequest) -> HttpResponse:
    _editor(request)
    language = _language()
    return render(
        request,
        "library/staff_content.html",
        {
            "articles": _shown(Article.objects.prefetch_related("texts"), language),
            "programmes": _shown(Programme.objects.prefetch_related("texts"), language),
            "counts": services.enrolment_counts(),
            "small_group": services.SMALL_GROUP,
        },
    )


def _texts_of(forms) -> dict[str, dict[str, str]]:
    return {form.language: form.cleaned_data for form in forms}


@require_http_methods(["GET", "POST"])
@staff_required()
def article_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _editor(request)
    found = (
        get_object_or_404(Article.objects.prefetch_related("texts"), pk=pk)
        if pk is not None
        else None
    )
    texts = list(found.texts.all()) if found else []
    if request.method == "POST":
        form = ArticleForm(request.POST, instance=found)
        forms = text_forms(request.POST)
        if form.is_valid() and all(text_form.is_valid() for text_form in forms):
            try:
                saved = services.article_save(
                    article=found,
                    slug=form.cleaned_data["slug"],
                    status=form.cleaned_data["status"],
                    public=form.cleaned_data["public"],
                    texts=_texts_of(forms),
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The article is saved."))
                return redirect("library:article_edit", pk=saved.pk)
    else:
        form = ArticleForm(instance=found)
        forms = text_forms(texts=texts)
    return render(
        request,
        "library/article_edit.html",
        {"article": found, "form": form, "text_forms": forms},
    )


@require_http_methods(["GET", "POST"])
@staff_required()
def programme_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _editor(request)
    found = get_object_or_404(Programme.objects.prefetch_related("texts"), pk=pk)
    if request.method == "POST":
        form = StatusForm(request.POST)
        forms = text_forms(request.POST)
        if form.is_valid() and all(text_form.is_valid() for text_form in forms):
            try:
                services.programme_save(
                    programme=found,
                    status=form.cleaned_data["status"],
                    texts=_texts_of(forms),
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The programme is saved."))
                return redirect("library:programme_edit", pk=found.pk)
    else:
        form = StatusForm(initial={"status": found.status})
        forms = text_forms(texts=list(found.texts.all()))
    language = _language()
    items = [
        {"item": item, "text": item.text_in(language)}
        for item in found.items.prefetch_related("texts")
    ]
    return render(
        request,
        "library/programme_edit.html",
        {"programme": found, "form": form, "text_forms": forms, "items": items},
    )


@require_http_methods(["GET", "POST"])
@staff_required()
def item_edit(request: HttpRequest, pk: int, item_pk: int | None = None) -> HttpResponse:
    _editor(request)
    found = get_object_or_404(Programme, pk=pk)
    item = (
        get_object_or_404(Item.objects.prefetch_related("texts"), pk=item_pk, programme=found)
        if item_pk is not None
        else None
    )
    if request.method == "POST":
        form = ItemForm(request.POST, new=item is None)
        if form.is_valid():
            try:
                services.item_save(
                    programme=found,
                    item=item,
                    kind=form.cleaned_data.get("kind", item.kind if item else ""),
                    texts=form.texts(),
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The programme is saved."))
                return redirect("library:programme_edit", pk=found.pk)
    else:
        initial = (
            {text.language: text.text for text in item.texts.all()}
            if item
            else {"kind": request.GET.get("kind", "")}
        )
        form = ItemForm(initial=initial, new=item is None)
    return render(
        request, "library/item_edit.html", {"programme": found, "item": item, "form": form}
    )
