"""Serving a class: many students on one server, none able to take from another.

The caches the server shares (bounded in bytes), the memory guard and work memory, the
one fair queue of long jobs, the class's pauses, who a student is (owner cookie, student
key), the shared folders and their per-student shares (photos, checkpoints), trainings in
flight across app processes, the live camera streams, views as links and presenter mode.
"""
