"""Who may capture custody events, read them, and resolve anomalies."""

from cimaise.core.roles import Role, grant

_READ = ("moves.view_custodyevent", "moves.view_anomaly", "moves.view_convoy")
grant(Role.REGISTRAR, *_READ, "moves.add_custodyevent", "moves.change_anomaly")
grant(Role.ADMIN, *_READ, "moves.add_custodyevent", "moves.change_anomaly")
grant(Role.ESCORT, *_READ, "moves.add_custodyevent")
grant(Role.RECEPTION, *_READ, "moves.add_custodyevent")
grant(Role.ANALYST, *_READ)
grant(Role.REGISTRAR, "moves.change_convoy", "moves.add_discrepancyresolution", "moves.add_conditionreport")
grant(Role.ADMIN, "moves.change_convoy", "moves.add_discrepancyresolution", "moves.add_conditionreport")
grant(Role.ESCORT, "moves.change_convoy")
grant(Role.RECEPTION, "moves.change_convoy", "moves.add_conditionreport")
for _reader in (Role.REGISTRAR, Role.ADMIN, Role.ESCORT, Role.RECEPTION, Role.ANALYST):
    grant(_reader, "moves.view_conditionreport", "moves.view_incident")
grant(Role.ADMIN, "moves.view_trackerdevice", "moves.add_trackerdevice", "moves.change_trackerdevice")
grant(Role.REGISTRAR, "moves.view_trackerdevice", "moves.add_trackerdevice", "moves.change_trackerdevice")
