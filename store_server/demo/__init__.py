"""Demo data for Tillpoint: a realistic generated supermarket catalog."""
