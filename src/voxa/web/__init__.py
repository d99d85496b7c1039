"""Web pages served by ``voxa serve``: customer chat, widget, general
assistant, owner dashboard. Plain HTML + ES modules; ``livekit-client`` comes
from npm (``frontend/``) and is copied into ``static/vendor`` by the set-up."""
