from django.apps import AppConfig


class CalloutsConfig(AppConfig):
    name = "callouts"
    verbose_name = "Incidents and callouts"
