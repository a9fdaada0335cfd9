"""Reading.

From a stored original to page results (fillable fields, text layer, or identification, registration and the scan
reader).
"""
