"""The assistant: one ``livekit.agents.Agent`` for text and voice, its tools,
memory, context window, models, and the text-turn runtime."""
