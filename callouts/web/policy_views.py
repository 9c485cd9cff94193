"""The escalation policy editor, for coordinators (saving is services.save_policy)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from cadre import access
from cadre.access import Can
from callouts import services
from callouts.models import EscalationPolicy
from callouts.web.forms import PolicyForm, StepFormSet, needs_from

policy_editor_required = access.require(Can.EDIT_POLICIES)


def my_policies(request):
    forces = access.force_ids(request.user, Can.EDIT_POLICIES)
    return EscalationPolicy.objects.filter(force__in=forces)


@policy_editor_required
def policy_list(request):
    policies = (
        my_policies(request)
        .select_related("force")
        .prefetch_related("steps__named")
        .order_by("force__name", "name")
    )
    forces = access.forces(request.user, Can.EDIT_POLICIES)
    return render(request, "callouts/policy_list.html", {"policies": policies, "forces": forces})


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


@policy_editor_required
def policy_edit(request, pk=None):
    if pk is None:
        force = access.chosen_force(request, Can.EDIT_POLICIES)
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
