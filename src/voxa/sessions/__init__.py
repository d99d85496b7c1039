"""Sessions: ids, room names, LiveKit tokens, config and lifecycle."""
