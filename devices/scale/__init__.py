"""Serial weighing scale: continuous-output ASCII protocol, driver and simulator."""
