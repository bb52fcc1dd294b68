"""Slack listeners, one module per surface. Each module has `register(app)`."""

from handlers import actions, commands, events, views


def register(app) -> None:
    actions.register(app)
    commands.register(app)
    events.register(app)
    views.register(app)
