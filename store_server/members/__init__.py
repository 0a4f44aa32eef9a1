"""Members at the store server: registration, member auth, ledgers, deposits, sale effects."""
