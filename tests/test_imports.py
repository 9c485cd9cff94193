"""The house's arrows: apps and layers depend one way, and no module imports itself round a circle.

Imports inside functions count too: a lazy import hides a circle, it does not remove it.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "cadre", "roster", "callouts", "reports")

# Who may import whom. A layer may use only the layers listed after it.
APP_ORDER = ("reports", "callouts", "roster", "cadre")
CALLOUTS_LAYERS = (
    ("callouts.web", "callouts.urls", "callouts.admin", "callouts.management"),
    ("callouts.services", "callouts.queries", "callouts.board", "callouts.timeline"),
    ("callouts.engine",),
    ("callouts.messaging",),
    (
        "callouts.rules",
        "callouts.tasks",
        "callouts.events",
        "callouts.locking",
        "callouts.models",
        "callouts.deployed",
        "callouts.frozen",
        "callouts.eventdata",
    ),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules that `name` imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    # "from callouts.engine import steps" names the module callouts.engine.steps.
    return {t for t in targets if t in known and t != name}


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, set(modules)) for name, path in modules.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def layer_of(name: str, layers) -> int | None:
    for position, prefixes in enumerate(layers):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return position
    return None


def test_it_finds_a_circle_when_there_is_one():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_it_has_no_import_circle_anywhere():
    assert circles(graph()) == []


def test_it_keeps_apps_pointing_one_way():
    wrong = []
    for name, targets in graph().items():
        app = name.split(".")[0]
        if app not in APP_ORDER:
            continue
        for target in targets:
            other = target.split(".")[0]
            if other in APP_ORDER and APP_ORDER.index(other) < APP_ORDER.index(app):
                wrong.append(f"{name} -> {target}")
    assert wrong == []


def test_it_keeps_callouts_layers_pointing_down():
    wrong = []
    for name, targets in graph().items():
        mine = layer_of(name, CALLOUTS_LAYERS)
        if mine is None:
            continue
        for target in targets:
            theirs = layer_of(target, CALLOUTS_LAYERS)
            if theirs is not None and theirs < mine:
                wrong.append(f"{name} -> {target}")
    assert sorted(wrong) == []


# Every app keeps the same rooms under the same names (README, "Layout").
ROOMS = {
    "models": ("models.py",),
    "rules": ("rules.py", "rules/__init__.py"),
    "services": ("services.py",),
    "queries": ("queries.py",),
    "views": ("views.py", "views/__init__.py", "web/__init__.py"),
}
# Pure decisions: data in, decision out; nothing from the database.
PURE = (
    "cadre.rules",
    "cadre.scope",
    "roster.rules",
    "reports.rules",
    "callouts.engine.escalation",
    "callouts.engine.answering",
    "callouts.engine.hands",
    "callouts.engine.reply_target",
    "callouts.engine.opt_out",
    "callouts.frozen",
    "callouts.messaging.replies",
    "callouts.messaging.reference",
    "cadre.phones",
)
# callouts.rules (what a valid incident is) reads the incident kinds, the roles and two field
# lengths from the models' own choices, so that the form, the API and the model cannot
# disagree; it runs no query.
PURE_BUT_READS_MODEL_CHOICES = {"callouts.rules": {"cadre.models", "callouts.models"}}


# An app's part of the dashboard, `dashboard_context(request)`: beside its views (callouts
# keeps its web layer in web/).
PANELS = ("panels.py", "web/panels.py")
# app -> why it has no part of the dashboard.
NO_PANEL = {"cadre": "the register shows nothing on the dashboard; it has its own pages"}


def test_every_app_has_the_same_rooms():
    missing = [
        f"{app}: {room}"
        for app in APP_ORDER
        for room, names in ROOMS.items()
        if not any((ROOT / app / name).exists() for name in names)
    ]
    assert missing == []


def test_every_app_draws_its_part_of_the_dashboard_from_its_panels_module():
    found = {app: [name for name in PANELS if (ROOT / app / name).exists()] for app in APP_ORDER}
    assert {app: names for app, names in found.items() if len(names) != 1} == {
        app: [] for app in NO_PANEL
    }
    dashboard = (ROOT / "config" / "views.py").read_text()
    for app, names in found.items():
        for name in names:
            module = f"{app}.{name.removesuffix('.py').replace('/', '.')}"
            assert f"from {module} import dashboard_context" in dashboard, module


def test_pure_rules_import_nothing_from_the_database():
    modules = project_modules()

    def pure(name, allowed=()):
        return any(name == p or name.startswith(p + ".") for p in (*PURE, *allowed))

    wrong = []
    for name, path in modules.items():
        if not pure(name, PURE_BUT_READS_MODEL_CHOICES):
            continue
        allowed = PURE_BUT_READS_MODEL_CHOICES.get(name, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                named = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                for target in [*named, getattr(node, "module", None) or ""]:
                    if target.startswith("django.db"):
                        wrong.append(f"{name} -> {target}")
        for target in imports_of(name, path, set(modules)):
            # "from callouts import rules" names the package too: its __init__ is a module map.
            bare_package = modules[target].name == "__init__.py" and not imports_of(
                target, modules[target], set(modules)
            )
            if bare_package:
                continue
            if target not in allowed and not pure(target, PURE_BUT_READS_MODEL_CHOICES):
                wrong.append(f"{name} -> {target}")
    assert wrong == []


# The web layer (pages, the API, webhooks, forms, dashboard panels) asks each app's `queries`
# for its reads and its `services` for its writes; it names no model manager itself.
WEB_MODULES = (
    "cadre.views",
    "cadre.auth_views",
    "cadre.import_views",
    "cadre.twofactor_views",
    "callouts.web",
    "roster.views",
    "roster.panels",
    "reports.views",
    "reports.panels",
)
# module -> why it may use `.objects` (none today: add one only with its reason).
WEB_MAY_QUERY: dict[str, str] = {}


def managers_used(path: Path) -> list[int]:
    """Lines where the module touches a model's manager (`Model.objects`)."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr == "objects"
    ]


def test_it_finds_a_manager_used_in_a_module(tmp_path):
    path = tmp_path / "views.py"
    path.write_text("def page(request):\n    return Negotiator.objects.filter(active=True)\n")
    assert managers_used(path) == [2]
    path.write_text('"""Reads come from queries, not Negotiator.objects."""\n')
    assert managers_used(path) == []


def test_views_and_web_modules_query_only_through_queries_and_services():
    modules = project_modules()
    web = [
        name for name in modules if any(name == w or name.startswith(w + ".") for w in WEB_MODULES)
    ]
    assert "callouts.web.api" in web and "roster.views.board" in web
    wrong = [
        f"{name}:{line}"
        for name in sorted(web)
        if name not in WEB_MAY_QUERY
        for line in managers_used(modules[name])
    ]
    assert wrong == []


# Every write names who acts: a service takes the acting login as a required keyword `by`
# (None: the system, the demo, a command or the clock). These public functions write nothing.
SERVICES_THAT_ONLY_READ = {
    "roster.services": {"snapshot", "check", "to_rotation", "swap_problems", "rotation_settings"},
}


def test_every_service_takes_who_acts_as_a_required_keyword():
    wrong = []
    for app in APP_ORDER:
        name = f"{app}.services"
        tree = ast.parse((ROOT / app / "services.py").read_text())
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            if node.name in SERVICES_THAT_ONLY_READ.get(name, ()):
                continue
            args = node.args
            by = [
                default
                for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
                if arg.arg == "by"
            ]
            if by != [None]:  # present, keyword-only, and without a default
                wrong.append(f"{name}.{node.name}")
    assert wrong == []
