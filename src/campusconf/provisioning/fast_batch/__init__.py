"""The fast batch path: a worker's creates sent side by side, settled together."""
