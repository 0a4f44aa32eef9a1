"""Running as a systemd appliance: readiness and watchdog notifications, the
journal, and the health of the disk and database under the store server."""
