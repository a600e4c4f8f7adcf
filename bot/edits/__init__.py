"""Messages Attend keeps up to date (issue 16.2, 16.3): each check's board in the team's
channel, and players' DMs after their answer changes, whatever the answer came from.

``worker`` (:class:`EditWorker`: claims stale messages, paces and records), ``render`` (what
they say), ``slack`` and ``discord`` (each platform's posts, edits and board buttons). What
makes a message stale is :mod:`core.message_edits`'s planner, fed by the log.
"""
