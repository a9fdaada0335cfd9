"""The review desk: a thin FastAPI + Jinja2 app over the pipeline's store and stages."""
