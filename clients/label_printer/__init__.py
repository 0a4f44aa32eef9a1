"""Shelf-edge and barcode labels from price-change batches (ARCHITECTURE §12, §13).

label_data (Product -> Label), render_png (Label -> 1-bit image), escpos_output (image ->
printer), batch (ListLabelJobs -> print -> CompleteLabelJobs); run with
``python -m clients.label_printer``.
"""
