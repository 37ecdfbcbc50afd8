from django.apps import AppConfig


class CollectionConfig(AppConfig):
    name = "cimaise.collection"
    verbose_name = "Collection"

    def ready(self) -> None:
        from cimaise.collection import demo_data, facts, roles  # noqa: F401  (registries)
