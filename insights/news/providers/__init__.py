"""News sources: one adapter module per vendor, each behind `base.NewsSource`."""
