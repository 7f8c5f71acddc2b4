"""Index methods, one module each, declared for the shared pipeline."""
