"""Statistical reports for staff: suppressed tables on screen and as CSV for sharing."""

import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.decorators import staff_required
from haven.analytics.forms import ReportForm
from haven.analytics.services import member_report
from haven.replica import reads_from_replica

REPORT_ROLES = ("compliance", "privacy_officer", "administrator")
HIDDEN = "*"


@staff_required(*REPORT_ROLES)
def report(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET or None, initial={"as_of": timezone.localdate()})
    result = None
    if form.is_valid():
        # Suppressed aggregates may be a little late; the run's record is written to default.
        with reads_from_replica():
            result = member_report(
                form.cleaned_data["measure"],
                form.cleaned_data["column"],
                form.cleaned_data["as_of"],
                ran_by=request.user,
            )
        if request.GET.get("format") == "csv":
            return report_csv(result)
    csv_query = request.GET.copy()
    csv_query["format"] = "csv"
    return render(
        request,
        "analytics/report.html",
        {"form": form, "report": result, "csv_query": csv_query.urlencode()},
    )


def report_csv(result) -> HttpResponse:
    """The same suppressed figures as the page; the only form in which they leave Haven (DIS-7)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="haven-report.csv"'
    writer = csv.writer(response)
    columns = result.measured.columns + [_("All")]
    writer.writerow(
        [_("Age band")]
        + [f"{column}: {kind}" for column in columns for kind in (_("counted"), _("members"))]
    )
    for label, cells in result.lines():
        row = [str(label)]
        for measured, base, _share in cells:
            row += [HIDDEN if measured is None else measured, HIDDEN if base is None else base]
        writer.writerow(row)
    writer.writerow([_("* hidden: a group of 1 to 10 people, or a figure that would reveal one.")])
    return response
