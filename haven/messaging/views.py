import json
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from haven.accounts.decorators import kind_required, staff_required
from haven.accounts.models import User
from haven.audit import access
from haven.messaging import push, services, sms
from haven.messaging.forms import (
    AssignForm,
    BroadcastForm,
    ClassifyForm,
    ConversationForm,
    PreferencesForm,
    ReplyForm,
)
from haven.messaging.models import TOPIC_ROUTES, Attachment, Conversation, Queue, Topic

NON_STAFF = [kind for kind in User.Kind.values if kind != User.Kind.STAFF]
QUEUE_ROLES = Queue.values
PAGE_SIZE = 25


def _page(request: HttpRequest, conversations, *, subjects: bool = True):
    """A page of conversations; staff lists show topics, not subjects (no content is read)."""
    page = Paginator(conversations, PAGE_SIZE).get_page(request.GET.get("page"))
    if subjects:
        for conversation in page:
            conversation.subject_text = conversation.subject
    return page


def _keep_input(form, error: ValidationError) -> None:
    """Put the service's error on the form; text refused by screening is not shown back."""
    refused = getattr(error, "error_dict", {}).get("body", [])
    if any(item.code == "refused" for item in refused):
        form.data = form.data.copy()
        form.data["body"] = ""
    form.add_error(None, error)


def _refused(request: HttpRequest, error: access.AccessDenied) -> HttpResponse:
    return render(request, "messaging/refused.html", {"reason": error.message}, status=403)


def _conversation_or_404(request: HttpRequest, pk: int) -> Conversation:
    if request.user.is_staff_member and not request.user.is_verified():
        raise PermissionDenied
    try:
        return services.conversation_for(request.user, pk)
    except Conversation.DoesNotExist as error:
        raise Http404 from error


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Everyone's secure inbox (MSG-1); staff see what is assigned to them."""
    user = request.user
    if user.is_staff_member:
        assigned = services.with_reading_state(
            Conversation.objects.filter(assigned_to=user, status=Conversation.Status.OPEN), user
        ).select_related("member", "account")
        return render(
            request,
            "messaging/staff_inbox.html",
            {
                "page": _page(request, assigned.order_by("-last_message_at"), subjects=False),
                "queue": services.staff_queue(user),
            },
        )
    mailbox = services.mailbox_for(request)
    try:
        services.audited_inbox_read(mailbox=mailbox, actor=user, request=request)
    except access.AccessDenied as error:
        return _refused(request, error)
    return render(
        request,
        "messaging/inbox.html",
        {
            "page": _page(request, services.inbox(mailbox, user)),
            "mailbox": mailbox,
            "archived": False,
            "unread_count": services.unread_conversation_count(user, mailbox),
        },
    )


@kind_required(*NON_STAFF)
def archived(request: HttpRequest) -> HttpResponse:
    mailbox = services.mailbox_for(request)
    try:
        services.audited_inbox_read(mailbox=mailbox, actor=request.user, request=request)
    except access.AccessDenied as error:
        return _refused(request, error)
    return render(
        request,
        "messaging/inbox.html",
        {
            "page": _page(request, services.inbox(mailbox, request.user, archived=True)),
            "mailbox": mailbox,
            "archived": True,
            "unread_count": services.unread_conversation_count(request.user, mailbox),
        },
    )


def _files(request: HttpRequest) -> list:
    return request.FILES.getlist("attachments")


@kind_required(*NON_STAFF)
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """Write to the care team or customer service; the topic decides which (MSG-2)."""
    mailbox = services.mailbox_for(request)
    initial = {"topic": request.GET.get("topic", "")}
    form = ConversationForm(
        request.POST or None, request.FILES or None, topics=mailbox.topics, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            conversation = services.conversation_start(
                mailbox=mailbox,
                topic=form.cleaned_data["topic"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                files=_files(request),
                idempotency_key=form.cleaned_data["idempotency_key"],
                actor=request.user,
            )
        except ValidationError as error:
            _keep_input(form, error)
        else:
            messages.success(request, _("Your message was sent."))
            return redirect("messaging:conversation", pk=conversation.pk)
    return render(request, "messaging/new.html", {"form": form, "mailbox": mailbox})


@login_required
@require_http_methods(["GET", "POST"])
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    """One conversation and its history; the reply form posts here."""
    user = request.user
    found = _conversation_or_404(request, pk)
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.message_send(
                conversation=found,
                body=form.cleaned_data["body"],
                files=_files(request),
                idempotency_key=form.cleaned_data["idempotency_key"],
                actor=user,
            )
        except ValidationError as error:
            _keep_input(form, error)
        else:
            messages.success(request, _("Your message was sent."))
            return redirect(reverse("messaging:conversation", kwargs={"pk": pk}) + "#latest")
    try:
        shown = services.conversation_read(conversation=found, actor=user, request=request)
    except access.AccessDenied as error:
        return _refused(request, error)
    context = {
        "shown": shown,
        "conversation": found,
        "form": form,
        "on_behalf": services.acts_on_behalf(user, found),
    }
    if user.is_staff_member:
        context["assign_form"] = AssignForm(
            colleagues=services.colleagues_for(found),
            initial={"assignee": found.assigned_to_id},
        )
        context["classify_form"] = ClassifyForm(
            initial={"topic": found.topic, "sensitive_category": found.sensitive_category}
        )
    return render(request, "messaging/conversation.html", context)


def _staff_action(request: HttpRequest, pk: int, action) -> HttpResponse:
    found = _conversation_or_404(request, pk)
    try:
        action(found)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    if services.conversations_visible_to(request.user).filter(pk=pk).exists():
        return redirect("messaging:conversation", pk=pk)
    return redirect("messaging:queue")


@staff_required(*QUEUE_ROLES)
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    def act(found: Conversation) -> None:
        if request.POST.get("assignee") == "me":
            assignee = request.user
        else:
            form = AssignForm(request.POST, colleagues=services.colleagues_for(found))
            if not form.is_valid():
                raise ValidationError(_("Choose someone who works this queue."))
            assignee = form.cleaned_data["assignee"]
        services.conversation_assign(conversation=found, assignee=assignee, actor=request.user)
        messages.success(request, _("The assignment was saved."))

    return _staff_action(request, pk, act)


@staff_required(*QUEUE_ROLES)
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    def act(found: Conversation) -> None:
        services.conversation_close(conversation=found, actor=request.user)
        messages.success(request, _("The conversation is closed."))

    return _staff_action(request, pk, act)


@staff_required(*QUEUE_ROLES)
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    def act(found: Conversation) -> None:
        services.conversation_reopen(conversation=found, actor=request.user)
        messages.success(request, _("The conversation is open again."))

    return _staff_action(request, pk, act)


@staff_required(*QUEUE_ROLES)
@require_POST
def classify(request: HttpRequest, pk: int) -> HttpResponse:
    def act(found: Conversation) -> None:
        form = ClassifyForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_("Choose a topic from the list."))
        moved = services.conversation_classify(
            conversation=found,
            topic=form.cleaned_data["topic"],
            sensitive_category=form.cleaned_data["sensitive_category"],
            actor=request.user,
        )
        if services.staff_queue(request.user) != moved.queue:
            messages.success(
                request,
                _("The conversation moved to the %(queue)s queue.")
                % {"queue": moved.get_queue_display()},
            )
        else:
            messages.success(request, _("The topic was saved."))

    return _staff_action(request, pk, act)


@kind_required(*NON_STAFF)
@require_POST
def archive(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation_or_404(request, pk)
    archived = request.POST.get("archived", "1") != "0"
    services.conversation_archive(conversation=found, archived=archived, actor=request.user)
    if archived:
        messages.success(request, _("The conversation was archived."))
        return redirect("messaging:inbox")
    messages.success(request, _("The conversation is back in your inbox."))
    return redirect("messaging:conversation", pk=pk)


@login_required
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """Download a screened attachment; one still waiting for the scanner cannot be opened."""
    try:
        found, content = services.attachment_open(pk=pk, actor=request.user, request=request)
    except Attachment.DoesNotExist as error:
        raise Http404 from error
    except access.AccessDenied as error:
        return _refused(request, error)
    response = HttpResponse(content, content_type=found.content_type)
    # Always a download: a file from outside never renders inside Haven's pages.
    response["Content-Disposition"] = _attachment_disposition(found.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _attachment_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@staff_required(*QUEUE_ROLES)
def queue(request: HttpRequest) -> HttpResponse:
    """The team's queue: open conversations first, filtered by who has them."""
    status = request.GET.get("status", Conversation.Status.OPEN)
    if status not in Conversation.Status.values:
        status = Conversation.Status.OPEN
    assigned = request.GET.get("assigned", "all")
    if assigned not in ("all", "me", "nobody"):
        assigned = "all"
    listed = services.queue_conversations(request.user, status=status, assigned=assigned)
    return render(
        request,
        "messaging/queue.html",
        {
            "page": _page(request, listed, subjects=False),
            "status": status,
            "assigned": assigned,
            "queue_label": Queue(services.staff_queue(request.user)).label,
            "statuses": Conversation.Status.choices,
        },
    )


@staff_required(*QUEUE_ROLES)
@require_http_methods(["GET", "POST"])
def staff_new(request: HttpRequest) -> HttpResponse:
    """Post a message from the plan to one member or a chosen group (MSG-1)."""
    team = services.staff_queue(request.user)
    topics = [(value, label) for value, label in Topic.choices if TOPIC_ROUTES[value][0] == team]
    form = BroadcastForm(request.POST or None, topics=topics)
    if request.method == "POST" and form.is_valid():
        members, unknown = services.members_for_audience(
            member_ids=form.chosen_member_ids(), group=form.chosen_group()
        )
        if unknown:
            form.add_error(
                "member_ids" if form.cleaned_data["audience"] == "list" else "member_id",
                _("No member has these IDs: %(ids)s") % {"ids": ", ".join(unknown)},
            )
        else:
            try:
                broadcast = services.broadcast_send(
                    members=members,
                    topic=form.cleaned_data["topic"],
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                    group=form.chosen_group(),
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if broadcast.delivered_at is not None:
                    text = _("Your message was posted to %(count)s members' inboxes.")
                else:
                    text = _(
                        "Your message is being posted to %(count)s members' inboxes; "
                        "it takes a few minutes."
                    )
                messages.success(request, text % {"count": broadcast.recipient_count})
                return redirect("messaging:queue")
    return render(request, "messaging/staff_new.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """How to hear that a secure message waits: e-mail, text or push, never the message (MSG-4)."""
    current = services.preferences_for(request.user)
    form = PreferencesForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        services.notification_preferences_update(
            user=request.user,
            by_email=form.cleaned_data["by_email"],
            by_text=form.cleaned_data["by_text"],
            by_push=form.cleaned_data["by_push"],
            actor=request.user,
        )
        messages.success(request, _("Your notification choices were saved."))
        return redirect("messaging:preferences")
    context = {
        "form": form,
        "texts_on": sms.gateway() is not None,
        "push_key": push.application_server_key(),
        "devices": request.user.push_devices.all(),
        "recent": services.recent_notifications_of(request.user),
    }
    return render(request, "messaging/preferences.html", context)


def push_worker(request: HttpRequest) -> HttpResponse:
    """The service worker that shows a push notification: served here, not from /static/, so its
    address stays the same across releases (hashed static names change) and browsers keep their
    subscription; like every page it is not cached, so a new release reaches browsers at once."""
    return render(request, "messaging/push-worker.js", content_type="text/javascript")


@login_required
@require_POST
def push_subscribe(request: HttpRequest) -> JsonResponse:
    """This browser's push subscription, posted by the notifications page's script as JSON."""
    try:
        subscription = json.loads(request.body or b"{}")
        keys = subscription.get("keys") or {}
        device = services.push_device_add(
            user=request.user,
            endpoint=str(subscription.get("endpoint", "")),
            p256dh=str(keys.get("p256dh", "")),
            auth=str(keys.get("auth", "")),
            user_agent=request.headers.get("User-Agent", ""),
            actor=request.user,
        )
    except (ValueError, AttributeError):
        return JsonResponse(
            {"error": _("The browser sent keys Haven cannot use. Try again.")}, status=400
        )
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    return JsonResponse({"device": device.label})


@login_required
@require_POST
def push_device_remove(request: HttpRequest) -> HttpResponse:
    """Turn push off on one device: from the device list (its id) or this browser (its endpoint)."""
    device_id = request.POST.get("device", "")
    removed = services.push_device_remove(
        user=request.user,
        device_id=int(device_id) if device_id.isdigit() else None,
        endpoint=request.POST.get("endpoint", ""),
    )
    if removed:
        messages.success(request, _("Push notifications are off on that device."))
    else:
        messages.info(request, _("That device was already removed."))
    return redirect("messaging:preferences")
