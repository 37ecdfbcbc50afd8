"""Convoy telemetry: trackers post positions and climate, shock and door readings; the transport
rules turn excursions into incidents; readings and the arrival go into the convoy's custody record.

Pure: ``readings`` (checking each reading of a batch), ``rules`` (excursions, arrival), ``geo``.
Writes: ``services`` (a batch, in one transaction), ``incidents`` (keeping incidents equal to the
excursions), ``custody`` (the EPCIS events), ``devices`` (trackers and their tokens), ``tasks`` and
``notify`` (the registrars' e-mail, after commit), ``rebuild`` (the readings from the ledger).
Reads: ``selectors``. Settings: ``conf``.
"""
