"""Long-running workflows that turn events into commands."""

from core.process_managers.attendance_check import AttendanceCheckManager

__all__ = ["AttendanceCheckManager"]
