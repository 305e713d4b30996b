"""Models, sessions, queries and migrations; knows nothing of Dash or HTTP."""
