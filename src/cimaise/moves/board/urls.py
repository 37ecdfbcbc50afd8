"""The live board, under /custody/board/ (names ``custody:board`` and ``custody:board-panel``)."""

from django.urls import path

from cimaise.moves.board import views

urlpatterns = [
    path("", views.board, name="board"),
    path("panel/", views.board_panel, name="board-panel"),
]
