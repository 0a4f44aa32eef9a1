"""The till side of receipt printing: receipt layout, and a durable print queue.

A sale commits on the store server first; its receipt then goes into the till's print
queue (a SQLite file), and a worker prints it through devices.printer, retrying while the
printer is missing, so a printer failure never loses a sale or a receipt.
"""
