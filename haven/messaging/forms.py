import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from haven.audit.policy import Sensitivity
from haven.messaging.models import NotificationPreference, Topic
from haven.messaging.services import MAX_ATTACHMENTS, MAX_BODY_CHARS, attachment_max_bytes
from haven.plans.models import EmployerGroup


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files in one input; each is screened by the service, not here."""

    widget = MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.txt"})

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(
                _("Attach at most %(count)s files.") % {"count": MAX_ATTACHMENTS}, code="count"
            )
        return [super(AttachmentsField, self).clean(item, initial) for item in files]


def attachments_help() -> str:
    size = attachment_max_bytes() // (1024 * 1024)
    return _(
        "Optional. PDF, PNG, JPEG or plain text, up to %(size)s MB each, %(count)s files at most. "
        "Files are checked for malicious code before anyone can open them."
    ) % {"size": size, "count": MAX_ATTACHMENTS}


class SendKeyMixin(forms.Form):
    # A double submit carries the same key, so the message is sent once.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)


class ConversationForm(SendKeyMixin):
    topic = forms.ChoiceField(label=_("Topic"), choices=Topic.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Message"), max_length=MAX_BODY_CHARS, widget=forms.Textarea(attrs={"rows": 8})
    )
    attachments = AttachmentsField(label=_("Attach files"), required=False)
    field_order = ["topic", "subject", "body", "attachments", "idempotency_key"]

    def __init__(self, *args, topics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = [("", _("Choose a topic")), *topics]
        self.fields["topic"].help_text = _(
            "Care and prescription questions go to your care team; the rest to customer service."
        )
        self.fields["attachments"].help_text = attachments_help()


class ReplyForm(SendKeyMixin):
    body = forms.CharField(
        label=_("Your reply"),
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    attachments = AttachmentsField(label=_("Attach files"), required=False)
    field_order = ["body", "attachments", "idempotency_key"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachments_help()


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assigned to"), queryset=None, required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = colleagues
        self.fields["assignee"].label_from_instance = lambda user: user.display_name


class ClassifyForm(forms.Form):
    topic = forms.ChoiceField(label=_("Topic"), choices=Topic.choices)
    sensitive_category = forms.ChoiceField(
        label=_("Sensitive category"),
        required=False,
        choices=[("", _("None")), *Sensitivity.choices],
        help_text=_(
            "Hidden from caregivers and guardians, and answered only by the care team roles "
            "the privacy policy allows."
        ),
    )


class BroadcastForm(SendKeyMixin):
    class Audience:
        ONE = "one"
        LIST = "list"
        GROUP = "group"

    audience = forms.ChoiceField(
        label=_("Send to"),
        widget=forms.RadioSelect,
        choices=[
            (Audience.ONE, _("One member")),
            (Audience.LIST, _("A list of members")),
            (Audience.GROUP, _("Every member of an employer group")),
        ],
        initial=Audience.ONE,
    )
    member_id = forms.CharField(label=_("Member ID"), max_length=32, required=False)
    member_ids = forms.CharField(
        label=_("Member IDs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One member ID per line, or separated by commas."),
    )
    group = forms.ModelChoiceField(
        label=_("Employer group"),
        queryset=EmployerGroup.objects.order_by("name"),
        required=False,
        empty_label=_("Choose a group"),
    )
    topic = forms.ChoiceField(label=_("Topic"), choices=Topic.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Message"), max_length=MAX_BODY_CHARS, widget=forms.Textarea(attrs={"rows": 8})
    )
    field_order = [
        "audience",
        "member_id",
        "member_ids",
        "group",
        "topic",
        "subject",
        "body",
        "idempotency_key",
    ]

    def __init__(self, *args, topics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = topics

    def clean(self):
        cleaned = super().clean()
        audience = cleaned.get("audience")
        if audience == self.Audience.ONE and not cleaned.get("member_id", "").strip():
            self.add_error("member_id", _("Enter the member's ID."))
        if audience == self.Audience.LIST and not cleaned.get("member_ids", "").strip():
            self.add_error("member_ids", _("Enter at least one member ID."))
        if audience == self.Audience.GROUP and not cleaned.get("group"):
            self.add_error("group", _("Choose an employer group."))
        return cleaned

    def chosen_member_ids(self) -> list[str]:
        audience = self.cleaned_data["audience"]
        if audience == self.Audience.ONE:
            return [self.cleaned_data["member_id"]]
        if audience == self.Audience.LIST:
            return self.cleaned_data["member_ids"].replace(",", "\n").splitlines()
        return []

    def chosen_group(self):
        return self.cleaned_data["group"] if self.cleaned_data["audience"] == "group" else None


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["by_email", "by_text", "by_push"]
        help_texts = {
            "by_text": _("To the phone number on your profile."),
        }
