"""Process-wide adapters the ``Runtime`` holds: LiveKit access tokens and room
deletion, the voice catalog and the business directory cache. Below the
services (sessions, agent, ...) and above storage; they know no session logic."""
