from django.urls import path

from reports import views

urlpatterns = [
    path("", views.figures, name="figures"),
    path("workload/", views.workload, name="workload"),
    path("workload/settings/", views.workload_settings, name="workload_settings"),
    path("mine/", views.my_figures, name="my_figures"),
    path("welfare/", views.welfare, name="welfare"),
    path("welfare/<int:pk>/", views.follow_up, name="follow_up"),
    path("audit/", views.audit, name="access_audit"),
    path("export/incidents.csv", views.export_incidents, name="export_incidents"),
    path("export/incidents/<int:pk>/timeline.csv", views.export_timeline, name="export_timeline"),
    path("export/workload.csv", views.export_workload, name="export_workload"),
]
