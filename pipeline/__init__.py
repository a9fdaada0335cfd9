"""The engine: plain functions over typed records, runnable without Prefect or FastAPI.

Sub-packages follow a form through its stages, in order: ``form`` (the one definition the
blank form and the readers share) → ``intake`` (files and mail received) → ``reading``
(page results, per source) → ``deciding`` (validate, route, decide) → ``privacy`` (retention,
subject rights). :mod:`pipeline.stages` says the order in one place; ``runs`` adds what a
mailbox run needs around it. ``settings``, ``errors`` and ``store`` serve every stage.
"""
