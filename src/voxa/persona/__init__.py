"""What an assistant says as itself: the default instructions and greetings per
role and the narrow templating of owner-written texts. A leaf: sessions (the
greeting in a grant), the agent (its instructions) and the API (validation of
owner texts) all read it."""
