"""Prefect flows: the pipeline's stages wrapped as tasks and ordered, and the command line."""
