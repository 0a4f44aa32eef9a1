"""The touch till: its logic as plain Python (presenter), and the Kivy views that show it."""
