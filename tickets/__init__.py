"""Tickets (工单): the record every call produces. Knows nothing of telephony."""
