"""Intake: what arrives (inbox files, mail messages), its limits, the mail store and the replies to schools."""
