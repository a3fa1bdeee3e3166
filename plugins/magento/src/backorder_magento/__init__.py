"""Magento 2 platform plugin for backorder (entry point ``magento``, platform ``"magento"``)."""

PLATFORM = "magento"
