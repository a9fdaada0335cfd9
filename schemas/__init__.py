"""The vocabulary every stage speaks: Pydantic models of documents, extractions, referrals and the directory."""
