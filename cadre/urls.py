from django.urls import path

from cadre import views

urlpatterns = [
    path("", views.cadre_list, name="cadre_list"),
]
