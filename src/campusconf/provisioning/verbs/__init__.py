"""The verbs: what a person, a script or the engine itself does to an account."""
