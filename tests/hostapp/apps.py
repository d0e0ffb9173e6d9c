from django.apps import AppConfig


class HostAppConfig(AppConfig):
    name = "tests.hostapp"
    label = "hostapp"
    verbose_name = "Test host platform"
    default_auto_field = "django.db.models.BigAutoField"
