"""Notifications: who hears about which event, and how (a file outbox or SMTP).

The built-in ``notify`` plugin (:mod:`backorder.notify.plugin`) implements
``backorder_notify`` for every store, whatever its platform.
"""
