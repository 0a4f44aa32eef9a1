"""Persistence: SQLAlchemy models, the SQLite engine pair, migrations, repositories."""
