"""Kivy clients: client/ (the plain gRPC layer) and till/ (the touch till)."""
