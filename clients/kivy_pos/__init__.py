"""Kivy touch till and handheld counter (issue: Kivy clients). Nothing here yet."""
