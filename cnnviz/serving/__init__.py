"""Serving a class: many students on one server, none able to take from another.

The caches the server shares (bounded in bytes), the memory guard, the one fair queue of
long jobs and the class's pauses, who a student is (owner cookie, student key), the shared
folders and their per-student shares (photos, checkpoints), and trainings in flight across
app processes. It sits below the models: nothing here imports a network.
"""
