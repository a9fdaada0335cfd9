"""Sample documents and the tools that make them (generator, scanner simulator)."""
