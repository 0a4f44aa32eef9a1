"""storectl: the store's command-line tool."""
