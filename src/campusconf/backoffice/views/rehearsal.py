"""The term-start rehearsal, for staff before a real term: the real cohorts in, a run
of ``campusconf rehearse`` started out of the request, its progress, then its report."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from campusconf.backoffice import rehearsal_runs
from campusconf.backoffice.rehearsal_forms import RehearsalForm
from campusconf.core.staff_access import staff_required
from campusconf.rehearsal import guard
from campusconf.rehearsal.projection import limits_of
from campusconf.services.models import Service


@staff_required
def rehearsal(request: HttpRequest) -> HttpResponse:
    services = list(Service.objects.order_by("slug"))
    allowed = guard.allowed()
    form = RehearsalForm(request.POST or None, request.FILES or None, services=services)
    if request.method == "POST" and allowed and form.is_valid():
        data = form.cleaned_data
        run_id = rehearsal_runs.start(
            members=data["members"],
            seed=data["seed"],
            manual=data["manual"],
            mix=form.mix,
            mix_text=data["mix_text"],
            limits=[
                limits_of(s, data[f"cohort_{s.slug}"]) for s in services if data[f"cohort_{s.slug}"]
            ],
        )
        return redirect("backoffice:rehearsal_run", run_id=run_id)
    return render(
        request,
        "backoffice/rehearsal.html",
        {
            "form": form,
            "allowed": allowed,
            "runs": rehearsal_runs.recent() if allowed else [],
        },
    )


@staff_required
def rehearsal_run(request: HttpRequest, run_id: str) -> HttpResponse:
    """The run's page; while it runs, htmx asks for its progress (``?part=progress``)."""
    run = rehearsal_runs.find(run_id)
    if run is None:
        raise Http404("no such rehearsal")
    names = {s.slug: s.name for s in Service.objects.all()}
    for row in run.projection:
        row["name"] = names.get(row["service"], row["service"])
    context = {"run": run}
    if request.GET.get("part") == "progress":
        return render(request, "backoffice/_rehearsal_progress.html", context)
    return render(request, "backoffice/rehearsal_run.html", context)
