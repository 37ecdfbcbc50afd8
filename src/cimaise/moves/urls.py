"""Custody pages, under /custody/ (namespace ``custody``)."""

from django.urls import include, path

from cimaise.moves import condition_views, views

app_name = "custody"

urlpatterns = [
    path("works/", views.works, name="works"),
    # An inventory number may hold a slash ("OA 1234/2"): path, not str.
    path("works/<path:inventory>/condition/new", condition_views.condition_new, name="condition-new"),
    path("works/<path:inventory>/", views.work_detail, name="work"),
    path("places/<str:code>/", views.place_detail, name="place"),
    path("anomalies/", views.anomaly_list, name="anomalies"),
    path("anomalies/<int:anomaly_id>/resolve", views.anomaly_resolve, name="anomaly-resolve"),
    path("documents/", include("cimaise.moves.urls_documents")),
    path("scanner/", include("cimaise.moves.scanner.urls")),
    path("board/", include("cimaise.moves.board.urls")),
]
