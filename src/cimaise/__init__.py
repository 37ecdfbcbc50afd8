"""Cimaise: operations platform for a large museum and its partner institutions."""

__version__ = "0.1.0"
