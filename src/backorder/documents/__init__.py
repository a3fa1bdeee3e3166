"""Documents: packing slips, pick lists and invoices from stored orders (HTML, then PDF)."""
