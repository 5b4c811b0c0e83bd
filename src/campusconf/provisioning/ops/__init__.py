"""What people and Prometheus read of the engine: metrics, status, preflight."""
