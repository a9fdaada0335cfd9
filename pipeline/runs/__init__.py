"""What a run adds around the stages: a mail message's intake and settlement, and alerts to staff."""
