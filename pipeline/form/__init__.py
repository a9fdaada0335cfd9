"""The form.

Its one definition (zones, tick boxes, combs in PDF points), the rendered print and fillable PDFs, and the blank page
image the readers compare with.
"""
