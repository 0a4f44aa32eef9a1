"""hqctl: the HQ operator's command line."""
