"""The yearly report for the CAF and the network: counts from the store, small counts hidden, charts, HTML and PDF.

``figures.py`` counts (from the database only), ``suppression.py`` hides what could name a pupil,
``charts.py`` draws (matplotlib, Agg), ``render.py`` writes the HTML page and the PDF.
"""
