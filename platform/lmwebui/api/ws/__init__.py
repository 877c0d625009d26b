"""WebSocket endpoints: one class per connection kind."""
