"""Every URL of the project turns an anonymous visitor away.

The URL list is walked from the resolver, so pages added later by any app are
covered without touching this file. Path converters and regex groups are
filled with a sample value that matches them.
"""

import re
from re import _parser as sre_parse  # the stdlib's own regex parser

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

# Prefix -> statuses an anonymous request may get there. Anything else must
# send the visitor to a login page (or answer 403/404/405).
OPEN = {"/login/": None, "/static/": None}
MACHINE = {
    "/twilio/": {403, 405},  # Twilio webhooks: signature checked first
    "/api/": {401, 405},  # bearer token checked first
    "/rota/feed/": {403, 404, 405},  # calendar feed: secret token in the path
}
# Not 404: a page must turn a stranger away before it looks anything up, or a
# view that forgot its login check would pass here on a sample id that does not
# exist and still show a real record to anyone.
REFUSED = {401, 403, 405}
LOGIN_PAGES = {"login", "admin:login"}

SAMPLE_CHARS = "1ax-"


def _char_allowed(char, items):
    code = ord(char)
    negate = False
    hit = False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            hit = hit or arg == code
        elif name == "RANGE":
            hit = hit or arg[0] <= code <= arg[1]
        elif name == "CATEGORY":
            hit = hit or {
                "CATEGORY_DIGIT": char.isdigit(),
                "CATEGORY_WORD": char.isalnum() or char == "_",
                "CATEGORY_NOT_DIGIT": not char.isdigit(),
                "CATEGORY_NOT_WORD": not (char.isalnum() or char == "_"),
                "CATEGORY_SPACE": char.isspace(),
                "CATEGORY_NOT_SPACE": not char.isspace(),
            }.get(str(arg), False)
    return hit != negate


def _sample(parsed) -> str:
    out = []
    for op, arg in parsed:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append("1" if chr(arg) != "1" else "x")
        elif name == "ANY":
            out.append("x")
        elif name == "IN":
            out.append(next(c for c in SAMPLE_CHARS if _char_allowed(c, arg)))
        elif name in {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}:
            low, _high, item = arg
            out.append(_sample(item) * max(low, 1))
        elif name == "SUBPATTERN":
            out.append(_sample(arg[-1]))
        elif name == "BRANCH":
            out.append(_sample(arg[1][0]))
        elif name == "ATOMIC_GROUP":
            out.append(_sample(arg))
        # AT (anchors) and assertions add nothing.
    return "".join(out)


def sample_path(regex: str) -> str:
    return "/" + _sample(sre_parse.parse(regex))


def walk(patterns, prefix=""):
    for entry in patterns:
        regex = prefix + entry.pattern.regex.pattern.lstrip("^").replace(r"\Z", "")
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, regex)
        elif isinstance(entry, URLPattern):
            yield regex


def every_path():
    paths = sorted({sample_path(regex) for regex in walk(get_resolver().url_patterns)})
    assert len(paths) > 10, "the URL walk found suspiciously few pages"
    return paths


def test_it_fills_converters_with_matching_samples():
    assert sample_path(r"cadre/(?P<pk>[0-9]+)/edit/") == "/cadre/1/edit/"
    assert sample_path(r"admin/(?P<app_label>cadre|auth)/$") == "/admin/cadre/"
    assert sample_path(r"feed/(?P<token>[^/]+)\.ics") == "/feed/1.ics"
    uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert re.fullmatch(uuid, sample_path(uuid)[1:])


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_it_turns_anonymous_visitors_away_from_every_url(client, method):
    checked = 0
    for path in every_path():
        if any(path.startswith(p) for p in OPEN):
            continue
        resolve(path)  # the sample really is one of ours
        response = getattr(client, method)(path, follow=True)
        machine = next((s for p, s in MACHINE.items() if path.startswith(p)), None)
        if machine is not None:
            assert response.status_code in machine, f"{method.upper()} {path}"
            continue
        if response.status_code in REFUSED:
            checked += 1
            continue
        match = response.resolver_match
        assert response.redirect_chain, f"{method.upper()} {path} answered {response.status_code}"
        assert match is not None and match.view_name in LOGIN_PAGES, (
            f"{method.upper()} {path} ended at {response.request['PATH_INFO']}"
        )
        checked += 1
    assert checked > 10
