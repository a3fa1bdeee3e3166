"""backorder: keep selling when stock runs out, under rules the merchant controls."""

__version__ = "0.1.0"
