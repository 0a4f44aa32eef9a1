"""The handheld counter: counts queued on the device, sent when the server answers."""
