"""Infrastructure the telephony side (ivr) and tickets share: the database layer and owned
background tasks. Nothing here knows about calls or tickets."""
