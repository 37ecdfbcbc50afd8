"""The access pages, under /access/: the handheld check for gate agents, and the live monitor and
the fraud signals for supervisors."""
