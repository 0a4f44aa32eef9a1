"""Backups of the store database: taken online, verified, rotated, restored.

A backup is one self-contained SQLite file named `<store id>-<UTC stamp>.db`
that records in its store_meta table which store it belongs to and when it
was taken.
"""
