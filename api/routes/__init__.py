"""The API's routes, one module per resource; all mounted under /api."""
