"""What runs remember between them: watermarks (Prefect Variables), the write-ahead journal
and the per-portal run lock. Plain values in and out.

May import: `model`, `config`, `rules`, `gateway` (the journal confirms doubtful changes,
recognising leadops tasks as the rules do).
"""
