"""The escalation policy editor, for coordinators (saving is services.save_policy)."""

from django.contrib import messages
from django.forms.utils import ErrorDict
from django.shortcuts import get_object_or_404, redirect, render

from cadre import access
from cadre.access import Can
from callouts import queries, services
from callouts.engine import policy as policies
from callouts.models import EscalationPolicy
from callouts.web.forms import STEPS_ALTERED, PolicyForm, StepFormSet, needs_from, step_count

policy_editor_required = access.require(Can.EDIT_POLICIES)


def my_policies(request):
    forces = access.force_ids(request.user, Can.EDIT_POLICIES)
    return queries.policies_of(forces)


@policy_editor_required
def policy_list(request):
    policies = queries.policy_list(access.force_ids(request.user, Can.EDIT_POLICIES))
    forces = access.forces(request.user, Can.EDIT_POLICIES)
    return render(request, "callouts/policy_list.html", {"policies": policies, "forces": forces})


def step_initial(policy):
    return [
        {**{k: v for k, v in step.items() if k != "position"}, "ORDER": step["position"]}
        for step in queries.policy_steps(policy)
    ]


def default_initial():
    """A new policy starts from the default policy's steps."""
    return [
        {**step, "named": [], "ORDER": position}
        for position, step in enumerate(policies.DEFAULT_STEPS, start=1)
    ]


def with_one_more_row(data, total):
    """The posted form with one more (empty) step row: "Add a step" without JavaScript."""
    data = data.copy()
    data["steps-TOTAL_FORMS"] = str(min(total + 1, StepFormSet.max_num))
    return data


@policy_editor_required
def policy_edit(request, pk=None):
    if pk is None:
        force = access.chosen_force(request, Can.EDIT_POLICIES)
        policy = EscalationPolicy(force=force)
    else:
        policy = get_object_or_404(my_policies(request), pk=pk)
        force = policy.force
    data = request.POST if request.method == "POST" else None
    if data is not None and (total := step_count(data)) is None:
        # Not a page of ours sent this: show the policy's steps as they are, say so, save nothing.
        steps = StepFormSet(
            initial=step_initial(policy) if policy.pk else default_initial(),
            form_kwargs={"force": force},
            prefix="steps",
        )
        form = PolicyForm(data, instance=policy, force=force)
        context = {"form": form, "steps": steps, "policy": policy, "altered": STEPS_ALTERED}
        return render(request, "callouts/policy_edit.html", context, status=400)
    adding = data is not None and "add_step" in data
    if adding:
        data = with_one_more_row(data, total)
    form = PolicyForm(data, instance=policy, force=force)
    steps = StepFormSet(
        data,
        # A new policy's default steps are what the empty page shows; once posted, the rows
        # are what was sent (an added row left blank is then no step at all).
        initial=step_initial(policy) if policy.pk else (None if data else default_initial()),
        form_kwargs={"force": force},
        prefix="steps",
    )
    if adding:
        # Only a row added: nothing was submitted to be checked yet, so no errors shown.
        form._errors = ErrorDict()
        for each in steps.forms:
            each._errors = ErrorDict()
        steps._errors, steps._non_form_errors = [], steps.error_class()
        return render(
            request,
            "callouts/policy_edit.html",
            {"form": form, "steps": steps, "policy": policy, "added": True},
        )
    if data is not None and form.is_valid() and steps.is_valid():
        policy = form.save(commit=False)
        services.save_policy(policy, needs_from(form.cleaned_data), steps.steps(), by=request.user)
        messages.success(request, f"Policy “{form.instance.name}” saved.")
        return redirect("policy_list")
    return render(
        request, "callouts/policy_edit.html", {"form": form, "steps": steps, "policy": policy}
    )
