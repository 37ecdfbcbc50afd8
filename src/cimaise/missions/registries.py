"""What the missions app registers at start-up (roles' grants, fact types, the demo loader, nav):
each module is imported here."""

from cimaise.missions import demo_data, facts, roles  # noqa: F401  (registries)
from cimaise.missions.pages import nav

nav.register()
