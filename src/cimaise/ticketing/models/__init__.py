"""Ticketing models: the catalogue, capacity, sales and the waiting room."""

from cimaise.ticketing.models.capacity import OpeningException, OpeningHours, Quota, QuotaKey, Slot
from cimaise.ticketing.models.catalogue import Channel, Exhibition, FreeCategory, Product, Tariff
from cimaise.ticketing.models.sales import Allocation, Cart, CartLine, Order, Revocation, Ticket
from cimaise.ticketing.models.waiting import QueueEntry, WaitingRoom

__all__ = [
    "Allocation",
    "Cart",
    "CartLine",
    "Channel",
    "Exhibition",
    "FreeCategory",
    "OpeningException",
    "OpeningHours",
    "Order",
    "Product",
    "QueueEntry",
    "Quota",
    "QuotaKey",
    "Revocation",
    "Slot",
    "Tariff",
    "Ticket",
    "WaitingRoom",
]
