from django.urls import path

from callouts.web import (
    api,
    debrief_views,
    hands_views,
    openapi,
    policy_views,
    simulator_views,
    views,
)

urlpatterns = [
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/new/", views.incident_raise, name="incident_raise"),
    path("incidents/<int:pk>/", views.incident_board, name="incident_board"),
    path("incidents/<int:pk>/live/", views.incident_board_live, name="incident_board_live"),
    path("incidents/<int:pk>/timeline/", views.incident_timeline, name="incident_timeline"),
    path("incidents/<int:pk>/debrief/", debrief_views.incident_debrief, name="incident_debrief"),
    path("incidents/<int:pk>/needs/", views.incident_raise_needs, name="incident_raise_needs"),
    path("incidents/<int:pk>/stand-down/", views.incident_stand_down, name="incident_stand_down"),
    path("incidents/<int:pk>/close/", views.incident_close, name="incident_close"),
    path("incidents/<int:pk>/call-again/", views.incident_call_again, name="incident_call_again"),
    path("incidents/<int:pk>/answer/", views.incident_answer, name="incident_answer"),
    path("incidents/<int:pk>/phoned/", hands_views.record_answer, name="incident_record_answer"),
    path("incidents/<int:pk>/page/", hands_views.page_person, name="incident_page_person"),
    path("policies/", policy_views.policy_list, name="policy_list"),
    path("policies/new/", policy_views.policy_edit, name="policy_new"),
    path("policies/<int:pk>/", policy_views.policy_edit, name="policy_edit"),
    path("simulator/phones/", simulator_views.phones, name="simulator_phones"),
    path("simulator/phones/live/", simulator_views.phones_live, name="simulator_phones_live"),
    path("simulator/phones/<int:pk>/reply/", simulator_views.phone_reply, name="simulator_reply"),
    path(
        "simulator/calls/<int:pk>/press/",
        simulator_views.phone_keypress,
        name="simulator_keypress",
    ),
]

api_urlpatterns = [
    path("api/incidents/", api.incidents, name="api_incidents"),
    path("api/incidents/<int:pk>/", api.incident_detail, name="api_incident"),
    path("api/incidents/<int:pk>/stand-down/", api.incident_stand_down, name="api_stand_down"),
    path("api/oncall/", api.oncall, name="api_oncall"),
    path("api/openapi.json", openapi.openapi, name="api_openapi"),
    # Last: whatever else is under /api/ (an id like -1 included) answers JSON 404.
    path("api/<path:rest>", api.not_found, name="api_not_found"),
    path("api/", api.not_found),
]
urlpatterns += api_urlpatterns
