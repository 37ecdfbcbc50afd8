"""Transfer documents as PDF, under /custody/documents/ (namespace ``documents``)."""

from django.urls import path

from cimaise.moves import views_documents

app_name = "documents"

urlpatterns = [
    path("crates/<str:barcode>/label.pdf", views_documents.crate_label, name="crate-label"),
    path("convoys/<str:code>/manifest.pdf", views_documents.convoy_manifest, name="convoy-manifest"),
    path("convoys/<str:code>/receipt.pdf", views_documents.arrival_receipt, name="convoy-receipt"),
    path("works/<path:inventory>/condition.pdf", views_documents.condition_report, name="condition-report"),
]
