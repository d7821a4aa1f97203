"""Offline speech recognition (Vosk). Knows nothing of tickets or Asterisk."""
