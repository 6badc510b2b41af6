"""Local fake servers that speak the real wire formats of the external APIs."""
