"""The shared request/response kit of the HTTP API (aiohttp): parsing, answers, who is
asking, and errors that carry their HTTP status. Both the hotline's slices (ivr/) and the
ticket routes (tickets/http.py) use it; it imports neither, and no route module."""
