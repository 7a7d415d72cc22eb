"""Pure engines: plain typed values in and out, no Django, no database (a test enforces it)."""
