"""Shelf-edge and barcode labels from price-change batches (issue: devices). Nothing here yet."""
