"""What the passnet app registers at start-up (roles' grants, fact types, the demo loader, nav):
each module is imported here."""

from cimaise.passnet import demo_data, facts, roles  # noqa: F401
from cimaise.passnet.nav import register

register()
