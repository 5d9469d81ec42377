"""The repository's own tools, not installed with the course: scripts, CI budgets, the web app's measurement harness."""
