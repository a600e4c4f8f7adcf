"""Discord: captains use the ``/attend`` commands; players answer from buttons in a DM.

``bot`` is the discord.py client (the command group, taps, ``attend discord sync``),
``channel`` sends the DMs for the delivery worker, and ``messages`` says what they look
like, with the buttons that keep working after a restart.
"""
