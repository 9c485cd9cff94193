"""Every URL of the project turns an anonymous visitor away.

The URL list is walked from the resolver, so pages added later by any app are
covered without touching this file. Each path converter is filled with a fixed
example for its type, and each regex group (only the admin's re_path()s have
them) with an example for its name. A pattern with a converter or group not
listed here fails the test, so none is ever skipped.
"""

import re

import pytest
from django.urls import URLResolver, converters, get_resolver, path, re_path, resolve
from django.urls.resolvers import RoutePattern

# Prefix -> statuses an anonymous request may get there. Anything else must
# send the visitor to a login page (or answer 403/404/405).
OPEN = {"/login/": None, "/static/": None}
MACHINE = {
    "/twilio/": {403, 405},  # Twilio webhooks: signature checked first
    "/api/": {401, 405},  # bearer token checked first
    "/rota/feed/": {403, 404, 405},  # calendar feed: secret token in the path
    "/healthz/": {200, 503, 405},  # for monitors: no personal data, nothing to change
}
# Not 404: a page must turn a stranger away before it looks anything up, or a
# view that forgot its login check would pass here on a sample id that does not
# exist and still show a real record to anyone.
REFUSED = {401, 403, 405}
LOGIN_PAGES = {"login", "admin:login"}

# One example value per path converter type: <int:pk>, <str:token>, <path:object_id>...
CONVERTER_EXAMPLES = {
    converters.IntConverter: "1",
    converters.StringConverter: "x",
    converters.SlugConverter: "x",
    converters.PathConverter: "x",
    converters.UUIDConverter: "00000000-0000-0000-0000-000000000001",
}
# One example value per named group of a re_path() regex (the admin's).
GROUP_EXAMPLES = {"app_label": "cadre", "url": "x"}

ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")  # <int:pk> or <pk>
NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")  # (?P<app_label>auth|cadre)


def _converter_example(converter):
    kind = type(converter)
    assert kind in CONVERTER_EXAMPLES, f"add an example for {kind.__name__} to CONVERTER_EXAMPLES"
    return CONVERTER_EXAMPLES[kind]


def _group_example(name):
    assert name in GROUP_EXAMPLES, f"add an example for the regex group {name!r} to GROUP_EXAMPLES"
    return GROUP_EXAMPLES[name]


def example(pattern) -> str:
    """The text a path() route or re_path() regex matches, with an example for each parameter."""
    if isinstance(pattern, RoutePattern):
        return ROUTE_PARAMETER.sub(
            lambda m: _converter_example(pattern.converters[m[1]]), str(pattern)
        )
    regex = pattern.regex.pattern.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    return NAMED_GROUP.sub(lambda m: _group_example(m[1]), regex)


def walk(patterns, prefix="/"):
    """A sample path for every URL pattern, through every include()."""
    for entry in patterns:
        here = prefix + example(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, here)
        else:
            yield here


def every_path():
    paths = sorted(set(walk(get_resolver().url_patterns)))
    assert len(paths) > 10, "the URL walk found suspiciously few pages"
    return paths


def view():
    pass


def test_it_fills_converters_and_groups_with_examples():
    assert example(path("cadre/<int:pk>/edit/", view).pattern) == "cadre/1/edit/"
    assert example(path("feed/<str:token>.ics", view).pattern) == "feed/x.ics"
    assert example(path("x/<uuid:id>/", view).pattern) == "x/00000000-0000-0000-0000-000000000001/"
    assert example(re_path(r"^(?P<app_label>cadre|auth)/$", view).pattern) == "cadre/"
    assert example(re_path(r"(?P<url>.*)$", view).pattern) == "x"


def test_it_refuses_a_converter_it_has_no_example_for():
    class Colour:
        regex = "red|blue"

    pattern = path("paint/<int:pk>/", view).pattern
    pattern.converters = {"pk": Colour()}
    with pytest.raises(AssertionError, match="add an example for Colour"):
        example(pattern)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_it_turns_anonymous_visitors_away_from_every_url(client, method):
    checked = 0
    for url in every_path():
        if any(url.startswith(p) for p in OPEN):
            continue
        resolve(url)  # the sample really is one of ours
        response = getattr(client, method)(url, follow=True)
        machine = next((s for p, s in MACHINE.items() if url.startswith(p)), None)
        if machine is not None:
            assert response.status_code in machine, f"{method.upper()} {url}"
            continue
        if response.status_code in REFUSED:
            checked += 1
            continue
        match = response.resolver_match
        assert response.redirect_chain, f"{method.upper()} {url} answered {response.status_code}"
        assert match is not None and match.view_name in LOGIN_PAGES, (
            f"{method.upper()} {url} ended at {response.request['PATH_INFO']}"
        )
        checked += 1
    assert checked > 10
