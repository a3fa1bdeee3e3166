"""Lightspeed eCom (C-Series) platform plugin for backorder (platform name ``lightspeed_ecom``)."""

PLATFORM = "lightspeed_ecom"

__all__ = ["PLATFORM"]
