"""Slack: captains type ``/attend ...``; players answer from Yes / No / Maybe buttons in a DM.

``app`` serves Slack's requests on the web app (``/slack/events``, and the install pages
when workspaces install Attend), ``channel`` sends the DMs for the delivery worker,
``messages`` says what they look like, ``home`` publishes each player's App Home (their
games, answers and buttons), ``installations`` keeps each workspace's bot token, and
``manifest.yaml`` creates the Slack app with the scopes, command, event and URLs it needs.
"""
