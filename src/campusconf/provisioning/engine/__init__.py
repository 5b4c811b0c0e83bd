"""The engine: one account job carried out, and the periodic work around it."""
