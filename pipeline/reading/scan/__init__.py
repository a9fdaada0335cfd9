"""The scan reader, split by concern.

Pixels, OMR, combs and ICR, text zones and their rules, foreign ink and streaks; ``page`` orders them.
"""
