"""What tests share besides fixtures: fakes of the outside world (Slack, Discord, SMTP), a
clock moved by hand, fresh databases, the domain stories several suites tell, and helpers
for processes and threads. Fixtures stay in ``tests/conftest.py`` and use these."""
