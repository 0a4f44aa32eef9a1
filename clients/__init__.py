"""Clients of the store server: the Kivy till and handheld, the label printer."""
