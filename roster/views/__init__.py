"""The rota's web pages, one module per audience (see roster/__init__.py)."""
