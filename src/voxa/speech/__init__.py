"""Speech outside the voice worker: which providers are configured (``spec``),
the offline engines themselves (``whisper``, ``piper``, ``espeak``) and
``voxa speech``, the OpenAI-compatible server that serves them (``server``)."""
