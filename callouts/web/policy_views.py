"""The escalation policy editor, for coordinators (saving is services.save_policy)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from cadre.access import coordinator_required
from cadre.queries import forces_for
from callouts import services
from callouts.models import EscalationPolicy
from callouts.web.forms import PolicyForm, StepFormSet, needs_from


def my_policies(request):
    return EscalationPolicy.objects.filter(force__in=forces_for(request.user))


@coordinator_required
def policy_list(request):
    policies = my_policies(request).select_related("force").prefetch_related("steps__named")
    return render(request, "callouts/policy_list.html", {"policies": policies})


def step_initial(policy):
    return [
        {
            "audience": s.audience,
            "channel": s.channel,
            "wait_minutes": s.wait_minutes,
            "named": list(s.named.all()),
            "ORDER": s.position,
        }
        for s in policy.steps.all()
    ]


@coordinator_required
def policy_edit(request, pk=None):
    if pk is None:
        force = forces_for(request.user).first()
        policy = EscalationPolicy(force=force)
    else:
        policy = get_object_or_404(my_policies(request), pk=pk)
        force = policy.force
    data = request.POST if request.method == "POST" else None
    form = PolicyForm(data, instance=policy, force=force)
    steps = StepFormSet(
        data,
        initial=step_initial(policy) if policy.pk else None,
        form_kwargs={"force": force},
        prefix="steps",
    )
    if data is not None and form.is_valid() and steps.is_valid():
        policy = form.save(commit=False)
        services.save_policy(policy, needs_from(form.cleaned_data), steps.steps())
        messages.success(request, f"Policy “{form.instance.name}” saved.")
        return redirect("policy_list")
    return render(
        request, "callouts/policy_edit.html", {"form": form, "steps": steps, "policy": policy}
    )
