"""Pure business rules: no I/O, no ORM, no clock (time is passed in)."""
