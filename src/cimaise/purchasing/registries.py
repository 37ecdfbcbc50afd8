"""What the purchasing app registers at start-up (roles' grants, fact types, the demo loader, nav,
the home panel, the renewal-alerts housekeeping job): each module is imported here."""

from cimaise.purchasing import alerts, demo_data, facts, roles  # noqa: F401  (registries)
from cimaise.purchasing.pages import nav

nav.register()
