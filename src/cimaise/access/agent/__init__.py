"""The entrance agent (``cimaise entrance-agent``): an edge process with its own SQLite store that
serves the lanes of one entrance on loopback HTTP and keeps working when the central service is
out of reach (see ``core``)."""
