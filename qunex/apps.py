from django.apps import AppConfig


class QunexConfig(AppConfig):
    name = "qunex"
    verbose_name = "Jobs and site"
