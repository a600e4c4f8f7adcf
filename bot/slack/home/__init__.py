"""Slack's App Home: a player's coming games, with their answer and buttons to give it.

- ``app_home_opened`` (Events API, on the request URL or over Socket Mode): Attend notes
  that this person has a Home (:mod:`.opened`) and publishes it (``views.publish``,
  :mod:`.publish`, looking as :mod:`.view` says). Slack resends an event it thinks was lost
  (``X-Slack-Retry-Num``, the same ``event_id``): a resent one is dropped (see
  :class:`~.listeners.RecentEvents`).
- A tap on a Home button: recorded like a tap in a DM (who answers is whoever Slack says
  tapped), then the Home is published again, with a note if the answer was refused.
- Anything else that changes what a Home shows (an answer by email or in the console, a
  captain answering for a player, a new game, in this process or another):
  :class:`~.changes.HomeChanges` follows the log like any handler and notes it, and
  :class:`~.refresh.HomeRefresher` publishes the Homes that show it, once per burst.
"""

from bot.slack.home.changes import HomeChanges
from bot.slack.home.listeners import register_home
from bot.slack.home.opened import HomeViews
from bot.slack.home.publish import Home
from bot.slack.home.refresh import home_refresher

__all__ = ["Home", "HomeChanges", "HomeViews", "home_refresher", "register_home"]
