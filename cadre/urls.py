from django.urls import path

from cadre import import_views, twofactor_views, views

urlpatterns = [
    path("", views.cadre_list, name="cadre_list"),
    path("new/", views.negotiator_create, name="negotiator_create"),
    path("me/", views.my_profile, name="my_profile"),
    path("import/", import_views.cadre_import, name="cadre_import"),
    path("import/<int:pk>/", import_views.cadre_import_preview, name="cadre_import_preview"),
    path("<int:pk>/", views.negotiator_detail, name="negotiator_detail"),
    path("<int:pk>/edit/", views.negotiator_edit, name="negotiator_edit"),
    path("<int:pk>/two-factor/reset/", twofactor_views.reset, name="two_factor_reset"),
]
