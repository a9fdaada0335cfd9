"""Deciding.

Field values, cross-checks and validation against the orientation criteria, the directory, routing, and the decision per
form.
"""
