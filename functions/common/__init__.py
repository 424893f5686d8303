"""What both HTTP deployables (the API Lambda and the stream relay) serve or depend on.

Neither `functions/api` nor `functions/stream` imports the other: the typed dependencies
(settings, adapters, the signed-in caller) and the OpenAI-compatible routes, which both
serve, live here.
"""
