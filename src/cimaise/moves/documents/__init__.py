"""Printed documents of a transfer, as PDF: the crate label, the convoy manifest ("bordereau"), the
condition report ("constat d'état") and the arrival receipt.

Each document has a builder that reads what it shows into a small dataclass, and a ``*_pdf``
function that renders it through its HTML template with WeasyPrint (``pdf.render_pdf``). The
barcodes are inline SVG (``codes``), so the PDF is vector and its text stays extractable.
"""
