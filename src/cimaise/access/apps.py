from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "cimaise.access"
    verbose_name = "Access control"
