"""The web app's screens, one module per screen (seeds 000 and 001)."""
