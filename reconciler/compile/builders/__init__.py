"""Small pure functions returning typed Envoy messages (one concern per function)."""
