"""Data protection: retention and purge, data-subject requests, the record of processing."""
