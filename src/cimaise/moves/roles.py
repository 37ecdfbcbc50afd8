"""Who may capture custody events, read them, and resolve anomalies."""

from cimaise.core.roles import Role, grant

_READ = ("moves.view_custodyevent", "moves.view_anomaly", "moves.view_convoy")
grant(Role.REGISTRAR, *_READ, "moves.add_custodyevent", "moves.change_anomaly")
grant(Role.ADMIN, *_READ, "moves.add_custodyevent", "moves.change_anomaly")
grant(Role.ESCORT, *_READ, "moves.add_custodyevent")
grant(Role.RECEPTION, *_READ, "moves.add_custodyevent")
grant(Role.ANALYST, *_READ)
