"""`leadops bench`: calls, time and memory of a cycle against a rate-limited sandbox.

May import: every product layer and `sandbox`.
"""
