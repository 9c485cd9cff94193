from django.apps import AppConfig


class CadreConfig(AppConfig):
    name = "cadre"
    verbose_name = "Cadre register"
