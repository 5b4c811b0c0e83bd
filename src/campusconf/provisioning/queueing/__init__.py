"""The rows both the verbs and the engine use: the job queue and the rate limits."""
